package logger_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/fx/fxtest"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
)

// fromConfig loads the logger section from a titan.yaml holding body and
// the variables environ, and builds the app's Logger from it.
func fromConfig(t *testing.T, body string, environ ...string) (file string, err error) {
	t.Helper()
	dir := t.TempDir()
	opts := config.Options{Environ: environ, Dir: dir, NoWatch: true, NoDefaultFile: true}
	if body != "" {
		file = filepath.Join(dir, "titan.yaml")
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		opts.Files = []string{file}
	}
	c, err := config.Load(opts, config.NewSpec("logger", logger.DefaultConfig()))
	if err != nil {
		return file, err
	}
	lc := fxtest.NewLifecycle(t)
	_, err = logger.NewFromConfig(logger.Params{Config: c, Lifecycle: lc})
	if err == nil {
		lc.RequireStart().RequireStop()
	}
	return file, err
}

// A field the logger refuses names where its value came from, as the
// configuration's own errors do; a missing value, where what holds it did.
func TestFieldErrorsSayWhereTheValueCameFrom(t *testing.T) {
	file, err := fromConfig(t, "logger:\n  sinks:\n    - type: file\n")
	if err == nil {
		t.Fatal("a file sink without a path was accepted")
	}
	want := "logger.sinks[0].path: required for a file sink (from " + file + ":2)"
	if err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

// Levels are read ignoring case, as ParseLevel reads them, wherever they
// come from; a level that is none repeats what the user wrote.
func TestConfigLevelsIgnoreCase(t *testing.T) {
	if _, err := fromConfig(t, "logger:\n  levels:\n    netron: WARN\n  sinks:\n    - type: stderr\n      level: Error\n", "TITAN_LOGGER__LEVEL=DEBUG"); err != nil {
		t.Fatal(err)
	}
	_, err := fromConfig(t, "", "TITAN_LOGGER__LEVEL=Verbose")
	if err == nil || !strings.Contains(err.Error(), `got "Verbose"`) || !strings.Contains(err.Error(), "TITAN_LOGGER__LEVEL") {
		t.Fatalf("want an error naming the variable and repeating Verbose, got %v", err)
	}
}
