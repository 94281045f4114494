package config_test

import (
	"errors"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type Counters struct {
	Total int64  `json:"total"`
	Seed  uint64 `json:"seed"`
}

// An environment variable holding an integer beyond int64 names the range
// of its key's type, as a file's value does; and a uint64 key takes the
// integers above int64's that it holds.
func TestEnvIntegerBeyondInt64(t *testing.T) {
	spec := config.NewSpec("counters", Counters{})
	c, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{"TITAN_COUNTERS__TOTAL=99999999999999999999"}}, spec)
	want := config.Problem{Path: "counters.total", Source: "env TITAN_COUNTERS__TOTAL",
		Reason: "want an integer from -9223372036854775808 to 9223372036854775807 (the range of an int64), got 99999999999999999999"}
	var ve *config.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0] != want {
		t.Errorf("got  %v\nwant %v", err, want)
	}

	c, err = config.Load(config.Options{NoDefaultFile: true, Environ: []string{"TITAN_COUNTERS__SEED=18446744073709551615"}}, spec)
	if err != nil {
		t.Fatalf("the largest uint64 for a uint64: %v", err)
	}
	got, err := config.Section[Counters](c, "counters")
	if err != nil || got.Seed != 18446744073709551615 {
		t.Errorf("the module reads %+v (%v), want seed 18446744073709551615", got, err)
	}
}
