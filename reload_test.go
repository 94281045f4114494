package titan_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
)

// TestReloadNamesKeysThatNeedARestart: a reload applies the logger
// section at once; a changed key that no module applies while the app
// runs (netron.cacheSize, a section of the app's own) is named in a
// warning that says it takes a restart, and a reload that changes only
// the logger section warns of nothing.
func TestReloadNamesKeysThatNeedARestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "titan.yaml")
	write := func(body string) {
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("logger:\n  format: json\nnetron:\n  cacheSize: 100\nhello:\n  greeting: hi\n  times: 1\n")
	buf := &testsrv.LogBuffer{}
	app := titan.New(
		titan.WithConfig(config.Options{Files: []string{file}, Environ: []string{}, NoWatch: true}),
		titan.WithLogger(logger.WithWriter(buf)),
		titan.ConfigSection("hello", helloConfig{Greeting: "hello", Times: 1}),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	restartKeys := func() [][]string {
		var out [][]string
		for _, r := range logRecords(t, buf) {
			if r["level"] == "WARN" && r["module"] == "config" {
				var keys []string
				for _, k := range r["keys"].([]any) {
					keys = append(keys, k.(string))
				}
				out = append(out, keys)
			}
		}
		return out
	}

	write("logger:\n  format: json\n  level: debug\nnetron:\n  cacheSize: 100\nhello:\n  greeting: hi\n  times: 1\n")
	if err := app.Config().Reload(); err != nil {
		t.Fatal(err)
	}
	if got := restartKeys(); len(got) != 0 {
		t.Fatalf("a reload of the logger section alone warned of %v", got)
	}

	write("logger:\n  format: json\n  level: debug\nnetron:\n  cacheSize: 200\nhello:\n  greeting: hey\n  times: 1\n")
	if err := app.Config().Reload(); err != nil {
		t.Fatal(err)
	}
	got := restartKeys()
	if len(got) != 1 || !slices.Equal(got[0], []string{"hello.greeting", "netron.cacheSize"}) {
		t.Fatalf("warnings of keys that need a restart = %v, want one naming [hello.greeting netron.cacheSize]\nlog:\n%s", got, buf.String())
	}
}
