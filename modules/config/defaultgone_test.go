package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A default file (titan.yaml found in the working directory) that goes
// away while the app runs, as an editor's save by rename or a mistaken mv
// makes it, is a reload that cannot be read, as a missing --config file
// is: the values read from it stay, and the reload says why, rather than
// every key falling back to its default without a word.
func TestReloadKeepsValuesWhenTheDefaultFileIsGone(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "titan.yaml", "net:\n  mode: fast\n  limits:\n    maxConns: 7\n")
	c := load(t, config.Options{Dir: dir})
	if got := c.Files(); len(got) != 1 || got[0] != file {
		t.Fatalf("Files() = %v, want [%s]", got, file)
	}
	changed := false
	defer c.Watch("net", func(*config.Config) { changed = true })()
	if err := os.Rename(file, filepath.Join(dir, "titan.yaml.bak")); err != nil {
		t.Fatal(err)
	}
	err := c.Reload()
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Reload after the default file went away = %v, want an error naming %s", err, file)
	}
	got, err := config.Section[NetConfig](c, "net")
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode != "fast" || got.Limits.MaxConns != 7 || changed {
		t.Fatalf("values fell back to the defaults (mode %q, maxConns %d, watcher called %v)", got.Mode, got.Limits.MaxConns, changed)
	}
	if c.Source("net.mode") != file+":2" {
		t.Errorf("Source(net.mode) = %q, want %s:2", c.Source("net.mode"), file)
	}

	// Back in place, it is read again.
	write(t, dir, "titan.yaml", "net:\n  mode: safe\n")
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, _ := config.Section[NetConfig](c, "net"); got.Mode != "safe" || !changed {
		t.Fatalf("after the file came back: mode %q, watcher called %v", got.Mode, changed)
	}
}
