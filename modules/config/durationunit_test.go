package config_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A duration written as a bare number in a file (requestTimeout: 5) is
// refused with one problem that says a duration is wanted and needs a
// unit, naming the key and the file: "want a string, got a number" sends
// the user quoting the 5, which is refused next.
func TestDurationWithoutUnitSaysItNeedsOne(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"app.yaml": "net:\n  requestTimeout: 5\n",
		"app.json": `{"net": {"requestTimeout": 5}}`,
		"app.toml": "[net]\nrequestTimeout = 5\n",
	} {
		file := write(t, dir, name, body)
		_, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir}, spec())
		if err == nil {
			t.Fatalf("%s: a duration without unit was accepted", name)
		}
		msg := err.Error()
		if !strings.Contains(msg, "net.requestTimeout") || !strings.Contains(msg, "duration") || !strings.Contains(msg, "unit") || !strings.Contains(msg, file) {
			t.Errorf("%s: the error does not name the key and file and say a duration needs a unit:\n%s", name, msg)
		}
		if strings.Count(msg, "net.requestTimeout") != 1 {
			t.Errorf("%s: want one problem at net.requestTimeout:\n%s", name, msg)
		}
	}
}
