package config_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A number from the environment or --set that is not finite (NaN, Inf,
// which strconv.ParseFloat reads) is refused as the value of its key, as
// any other string that is not a number, rather than failing the whole
// section with JSON's "unsupported value".
func TestNonFiniteNumberNamesItsKey(t *testing.T) {
	for _, raw := range []string{"NaN", "nan", "Inf", "-inf", "+Infinity"} {
		_, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{"TITAN_NET__LIMITS__RATIO=" + raw}}, spec())
		want := `net.limits.ratio: want a number, got "` + raw + `" (from env TITAN_NET__LIMITS__RATIO)`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("env %s: error %v, want one holding %q", raw, err, want)
		}
		_, err = config.Load(config.Options{NoDefaultFile: true, Environ: []string{}, Sets: []string{"net.limits.ratio=" + raw}}, spec())
		want = `net.limits.ratio: want a number, got "` + raw + `" (from flag --set net.limits.ratio)`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--set %s: error %v, want one holding %q", raw, err, want)
		}
	}
}
