package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A duration that is not one ("5 parsecs") is refused in words a user
// reads, naming the key, the file and line, and what a duration looks like
// — not the regular expression behind the check.
func TestBadDurationSaysWhatADurationIs(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "app.yaml", "net:\n  requestTimeout: 5 parsecs\n")
	for _, o := range []config.Options{
		{Files: []string{file}, Environ: []string{}, Dir: dir},
		{Environ: []string{"TITAN_NET__REQUEST_TIMEOUT=5 parsecs"}, Dir: dir},
	} {
		_, err := config.Load(o, spec())
		if err == nil {
			t.Fatal("5 parsecs accepted")
		}
		msg := err.Error()
		if strings.Contains(msg, "pattern") || strings.Contains(msg, "^[-+]") {
			t.Errorf("the error shows a regular expression instead of saying what a duration is:\n%s", msg)
		}
		if !strings.Contains(msg, "net.requestTimeout") || !strings.Contains(msg, "duration") {
			t.Errorf("the error does not name the key and say a duration is wanted:\n%s", msg)
		}
	}
}

// A duration that has the shape of one but does not fit a time.Duration
// ("9999999999h", about 1.1 million years) is a bad value like any other:
// Load refuses it with the key and its file and line, listed with the
// other problems. Loading it and failing later in Decode loses all that.
func TestOverflowingDurationIsAValidationProblem(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "app.yaml", "net:\n  requestTimeout: 9999999999h\n  limits:\n    maxConns: 0\n")
	c, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir}, spec())
	if err == nil {
		var out NetConfig
		derr := c.Decode("net", &out)
		t.Fatalf("9999999999h loaded; Decode then says: %v", derr)
	}
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	var found bool
	for _, p := range ve.Problems {
		if p.Path == "net.requestTimeout" && p.Source == file+":2" &&
			p.Reason == `want a duration from -2562047h to 2562047h (about 292 years), got "9999999999h"` {
			found = true
		}
	}
	if !found {
		t.Fatalf("net.requestTimeout (%s:2) not among the problems: %v", file, err)
	}
}

// A syntax error in a JSON or TOML file says on which line it is, as the
// YAML parser's does.
func TestSyntaxErrorNamesTheLine(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct{ name, body, line string }{
		{"app.yaml", "net:\n  mode: fast\n bad: [\n", "line 2"},
		{"app.json", "{\n  \"net\": {\n    \"mode\": \"fast\",\n  }\n}\n", "line 4"},
		{"app.toml", "[net]\nmode = \"fast\"\ndebug = \n", "line 3"},
	} {
		file := write(t, dir, f.name, f.body)
		_, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir}, spec())
		if err == nil || !strings.Contains(err.Error(), f.line) {
			t.Errorf("%s: error %q does not say %q", f.name, err, f.line)
		}
	}
}

// A section of one of Titan's optional modules that the program does not
// link is reported with the import that would link it, as for nats (the
// security section is refused: TestUnlinkedSecuritySectionRefused).
func TestUnlinkedOptionalSectionsNameTheirImport(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "app.yaml", "tracing:\n  enabled: true\n")
	c := load(t, config.Options{Files: []string{file}})
	w := strings.Join(c.Warnings(), "\n")
	if !strings.Contains(w, "modules/tracing") {
		t.Errorf("warning does not name modules/tracing:\n%s", w)
	}
}
