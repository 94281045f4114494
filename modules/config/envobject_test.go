package config_test

import (
	"errors"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A variable holding valid JSON that is no object, at a key that wants
// one, is refused in the user's terms, not Go's (map[string]interface {}).
func TestEnvNotAnObject(t *testing.T) {
	spec := config.NewSpec("counters", Counters{})
	_, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{"TITAN_COUNTERS=5"}}, spec)
	want := config.Problem{Path: "counters", Source: "env TITAN_COUNTERS", Reason: `want a JSON object such as {"key": 1}, got "5"`}
	var ve *config.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0] != want {
		t.Errorf("got  %v\nwant %v", err, want)
	}
}
