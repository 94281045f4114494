package config_test

import (
	"errors"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type Outputs struct {
	Sinks []Output `json:"sinks,omitempty"`
}

type Output struct {
	Type  string `json:"type" jsonschema:"enum=stderr,enum=file"`
	Level string `json:"level,omitempty" jsonschema:"enum=debug,enum=info"`
}

// A bad value in an element of a list names the line of that value, in
// every file format, not the line of the list's key: in a list of ten
// outputs, "sinks:" does not say which one is wrong. A list a later source
// replaces is that source's, elements and all.
func TestListElementProblemsNameTheirLine(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, body string }{
		{"out.yaml", "out:\n  sinks:\n    - type: stderr\n    - type: file\n      level: verbose\n      fromat: json\n"},
		{"out.json", "{\"out\": {\"sinks\": [\n  {\"type\": \"stderr\"},\n  {\n   \"type\": \"file\",\n   \"level\": \"verbose\",\n   \"fromat\": \"json\"}]}}\n"},
		{"out.toml", "[[out.sinks]]\ntype = \"stderr\"\n[[out.sinks]]\ntype = \"file\"\nlevel = \"verbose\"\nfromat = \"json\"\n"},
	} {
		file := write(t, dir, tt.name, tt.body)
		_, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir}, config.NewSpec("out", Outputs{}))
		var ve *config.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%s: want *ValidationError, got %v", tt.name, err)
		}
		want := map[string]string{"out.sinks.1.level": file + ":5", "out.sinks.1.fromat": file + ":6"}
		for _, p := range ve.Problems {
			if w, ok := want[p.Path]; ok && p.Source != w {
				t.Errorf("%s: %s from %s, want %s", tt.name, p.Path, p.Source, w)
			}
			delete(want, p.Path)
		}
		if len(want) > 0 {
			t.Errorf("%s: %v not among the problems: %v", tt.name, want, err)
		}
	}

	file := write(t, dir, "ok.yaml", "out:\n  sinks:\n    - type: stderr\n")
	c, err := config.Load(config.Options{Files: []string{file}, Dir: dir, Environ: []string{`TITAN_OUT__SINKS=[{"type":"file"}]`}}, config.NewSpec("out", Outputs{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"out.sinks", "out.sinks.0.type"} {
		if got := c.Source(path); got != "env TITAN_OUT__SINKS" {
			t.Errorf("%s comes from %q, want the variable", path, got)
		}
	}
}
