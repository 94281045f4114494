package config_test

import (
	"errors"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type Caps struct {
	MaxStreams int   `json:"maxStreams" jsonschema:"minimum=1"`
	MaxBytes   int64 `json:"maxBytes" jsonschema:"minimum=1"`
	Workers    int32 `json:"workers" jsonschema:"minimum=1"`
	Priority   uint8 `json:"priority"`
}

// A number too large for its key's Go type is refused at load, with the
// key, its file and line and the type's range; it never reaches the module
// as another (negative, or wrapped) number.
func TestIntegerTooLargeForItsTypeIsRefused(t *testing.T) {
	spec := config.NewSpec("caps", Caps{MaxStreams: 1, MaxBytes: 1, Workers: 1})
	for _, tt := range []struct{ body, path, reason string }{
		{"caps:\n  maxStreams: 10000000000000000000\n", "caps.maxStreams",
			"want an integer from -9223372036854775808 to 9223372036854775807 (the range of an int), got 10000000000000000000"},
		{"caps:\n  maxBytes: 1e30\n", "caps.maxBytes",
			"want an integer from -9223372036854775808 to 9223372036854775807 (the range of an int64), got 1e+30"},
		{"caps:\n  workers: 4294967297\n", "caps.workers",
			"want an integer from -2147483648 to 2147483647 (the range of an int32), got 4294967297"},
		{"caps:\n  priority: -1\n", "caps.priority",
			"want an integer from 0 to 255 (the range of a uint8), got -1"},
	} {
		dir := t.TempDir()
		file := write(t, dir, "app.yaml", tt.body)
		c, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir}, spec)
		if err == nil {
			got, derr := config.Section[Caps](c, "caps")
			t.Errorf("loaded %q; the module reads %+v (decode error: %v)", tt.body, got, derr)
			continue
		}
		want := config.Problem{Path: tt.path, Reason: tt.reason, Source: file + ":2"}
		var ve *config.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0] != want {
			t.Errorf("%q:\ngot  %v\nwant %v", tt.body, err, want)
		}
	}
}

// A section no module registered is not validated, but decoding one of its
// numbers into an integer too small for it is an error, not a wrapped value.
func TestDecodeRefusesAnIntegerItsTypeCannotHold(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "app.yaml", "caps:\n  maxStreams: 10000000000000000000\n  workers: 4294967297\n")
	c, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := config.Section[Caps](c, "caps"); err == nil {
		t.Fatalf("decoded %+v", got)
	}
}
