package config_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A key given twice in one object of a JSON file is refused, naming the
// file, the key and both lines, as YAML and TOML files refuse it: taking
// the last silently lets a stale copy of a key override the one a reader
// of the file sees first.
func TestDuplicateKeyInJSONFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "app.json", "{\"net\": {\n  \"requestTimeout\": \"1s\",\n  \"requestTimeout\": \"9s\"\n}}\n")
	_, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, Dir: dir}, spec())
	if err == nil {
		t.Fatal("a JSON file with net.requestTimeout twice was accepted")
	}
	msg := err.Error()
	for _, want := range []string{file, "net.requestTimeout", "line 3", "line 2"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not name %s:\n%s", want, msg)
		}
	}
	if strings.Count(msg, "\n") > 0 {
		t.Errorf("want one error, got:\n%s", msg)
	}

	// The same key in two objects of a list is no duplicate.
	ok := write(t, dir, "ok.json", `{"net": {"requestTimeout": "1s"}, "other": [{"a": 1}, {"a": 2}]}`)
	if _, err := config.Load(config.Options{Files: []string{ok}, Environ: []string{}, Dir: dir}, spec()); err != nil && strings.Contains(err.Error(), "already") {
		t.Errorf("keys of different objects taken for duplicates: %v", err)
	}
}
