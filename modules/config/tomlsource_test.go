package config_test

import (
	"errors"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A bad value in a TOML file is reported with its line, as in YAML and
// JSON files.
func TestTOMLProblemsNameTheirLine(t *testing.T) {
	file := write(t, t.TempDir(), "bad.toml", "[net]\nmode = \"turbo\"\n\n[net.limits]\nmaxConns = 0\n")
	_, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}}, spec())
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	want := map[string]string{"net.mode": file + ":2", "net.limits.maxConns": file + ":5"}
	for _, p := range ve.Problems {
		if w, ok := want[p.Path]; ok && p.Source != w {
			t.Errorf("%s: source %q, want %q", p.Path, p.Source, w)
		}
		delete(want, p.Path)
	}
	if len(want) > 0 {
		t.Errorf("problems not reported: %v (got %v)", want, err)
	}
}
