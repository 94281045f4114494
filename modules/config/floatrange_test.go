package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type Ratios struct {
	Sample float32 `json:"sample"`
	Weight float64 `json:"weight"`
}

// A number beyond the range of its key's float type is refused at load,
// with the key, where it came from and the range; it never reaches the
// module as +Inf.
func TestFloatTooLargeForItsTypeIsRefused(t *testing.T) {
	spec := config.NewSpec("ratios", Ratios{})
	for _, tt := range []struct{ env, path, reason string }{
		{"TITAN_RATIOS__SAMPLE=1e300", "ratios.sample",
			"want a number from -3.4028234663852886e+38 to 3.4028234663852886e+38 (the range of a float32), got 1e+300"},
		{"TITAN_RATIOS__SAMPLE=-4e38", "ratios.sample",
			"want a number from -3.4028234663852886e+38 to 3.4028234663852886e+38 (the range of a float32), got -4e+38"},
		{"TITAN_RATIOS__WEIGHT=1e400", "ratios.weight",
			"want a number from -1.7976931348623157e+308 to 1.7976931348623157e+308 (the range of a float64), got 1e400"},
	} {
		c, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{tt.env}}, spec)
		if err == nil {
			got, derr := config.Section[Ratios](c, "ratios")
			t.Errorf("loaded %s; the module reads %+v (decode error: %v)", tt.env, got, derr)
			continue
		}
		name, _, _ := strings.Cut(tt.env, "=")
		want := config.Problem{Path: tt.path, Reason: tt.reason, Source: "env " + name}
		var ve *config.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0] != want {
			t.Errorf("%s:\ngot  %v\nwant %v", tt.env, err, want)
		}
	}
	// The largest float32 itself fits.
	if _, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{"TITAN_RATIOS__SAMPLE=3.4e38"}}, spec); err != nil {
		t.Errorf("3.4e38 for a float32: %v", err)
	}
}
