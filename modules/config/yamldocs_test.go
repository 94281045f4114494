package config_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// An empty document (a leading or trailing ---) is not a second one.
func TestYAMLEmptyDocumentsAreIgnored(t *testing.T) {
	dir := t.TempDir()
	for _, b := range []string{"---\nnet:\n  mode: fast\n", "net:\n  mode: fast\n---\n", "net:\n  mode: fast\n---\n# nothing\n"} {
		file := write(t, dir, "a.yaml", b)
		if _, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir}, spec()); err != nil {
			t.Errorf("%q: %v", b, err)
		}
	}
}

// A YAML file with several documents is not half read: it is refused,
// naming the file and the line where the second document starts.
func TestMultiDocumentYAMLIsRefused(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "app.yaml", "net:\n  mode: fast\n---\nnet:\n  debug: true\n")
	c, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir}, spec())
	if err == nil {
		got, _ := config.Section[NetConfig](c, "net")
		t.Fatalf("loaded; the second YAML document (net.debug: true) was silently ignored: %+v", got)
	}
	if msg := err.Error(); !strings.Contains(msg, file) || !strings.Contains(msg, "second YAML document at line 3") {
		t.Fatalf("the error does not name %s and line 3: %v", file, err)
	}
}
