package titan

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type runFlagsConfig struct {
	Times int `json:"times"`
}

// TestRunFlagsAfterErr: Run reads --config and --set, which configure
// the app as it is built; an app already built (Err, Config or Start
// called before Run) cannot take them, and Run says so instead of
// running without them.
func TestRunFlagsAfterErr(t *testing.T) {
	t.Parallel()
	app := New(WithConfig(config.Options{NoDefaultFile: true, Environ: []string{}, NoWatch: true}),
		ConfigSection("hello", runFlagsConfig{Times: 1}))
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	code := app.run([]string{"--print-config", "--set", "hello.times=7"}, &stdout, &stderr)
	if code == 0 && !strings.Contains(stdout.String(), "times: 7") {
		t.Fatalf("exit 0 without the --set value; stdout:\n%s", &stdout)
	}
	if code != 0 && !strings.Contains(stderr.String(), "--set hello.times=7") {
		t.Fatalf("exit %d; stderr does not name the flag:\n%s", code, &stderr)
	}
}
