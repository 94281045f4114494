package titan_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
)

// startWithFile builds and starts an app configured by a titan.yaml holding
// body, and returns the error and the file's path.
func startWithFile(t *testing.T, body string) (error, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "titan.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	app := titan.New(titan.WithConfig(config.Options{Files: []string{p}, Environ: []string{}, NoWatch: true}))
	err := app.Start(context.Background())
	if err == nil {
		_ = app.Stop(context.Background())
	}
	return err, p
}

// A bad value of a netron (or logger) key is refused at start-up with the
// key and where it came from (file and line), whichever check catches it:
// a port out of range before anything listens, a negative duration (which
// would make every stream time out at once, or reconnect in a busy loop),
// an integer too large for its type.
func TestNetronKeyErrorsNameKeyAndSource(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, body, key, line string }{
		{"listen port out of range", "netron:\n  listen: [\"tcp://127.0.0.1:99999\"]\n", "netron.listen", ":2"},
		{"negative request timeout", "netron:\n  requestTimeout: -5s\n", "netron.requestTimeout", ":2"},
		{"negative stream idle timeout", "netron:\n  streamIdleTimeout: -5s\n", "netron.streamIdleTimeout", ":2"},
		{"negative reconnect", "netron:\n  reconnect:\n    min: -1s\n    max: -1s\n", "netron.reconnect.min", ":3"},
		// Beyond the range of its Go type: refused, not wrapped to a negative int.
		{"int overflow", "netron:\n  maxStreamsPerPeer: 10000000000000000000\n", "netron.maxStreamsPerPeer", ":2"},
		{"logger file sink without a path", "logger:\n  sinks:\n    - type: file\n", "logger.sinks", ":2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err, file := startWithFile(t, tt.body)
			if err == nil {
				t.Fatal("accepted")
			}
			if msg := err.Error(); !strings.Contains(msg, tt.key) || !strings.Contains(msg, file+tt.line) {
				t.Fatalf("error does not name %s and %s%s:\n%v", tt.key, file, tt.line, err)
			}
		})
	}
}

// logger.level is read ignoring case (ERROR), as logger.ParseLevel reads it.
func TestLoggerLevelIgnoresCase(t *testing.T) {
	t.Parallel()
	app := titan.New(titan.WithConfig(config.Options{NoDefaultFile: true, NoWatch: true, Environ: []string{"TITAN_LOGGER__LEVEL=ERROR"}}))
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
}
