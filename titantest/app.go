package titantest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
)

// App is a titan app started for one test by [StartApp]. Its embedded
// [*titan.App] gives the configuration ([titan.App.Config]); the app
// stops when the test ends.
type App struct {
	*titan.App
	n   *netron.Netron
	mem string
}

// StartApp builds and starts an app made of opts, as titan.New(opts...)
// with Start, and stops it when the test ends (within the app's stop
// timeout; a failed stop fails the test). A start-up error fails the test
// at once, with the app's message.
//
// The app is kept apart from the machine it runs on: it reads no
// titan.yaml and no TITAN_ variables (give settings with [WithSettings],
// or a titan.WithConfig of your own, which replaces that), and its log
// goes to the test's log (shown when the test fails, or with -v). Besides
// what netron.listen and titan.Listen say, it listens on an in-process
// mem:// address, which [App.Dial] connects to; a service restricted with
// titan.Transports must name "mem" to be reached there.
func StartApp(tb testing.TB, opts ...titan.Option) *App {
	tb.Helper()
	a := &App{}
	logs := &testWriter{tb: tb}
	// Registered first, so it runs last: after the app has stopped, the
	// log no longer writes to a test that has ended.
	tb.Cleanup(logs.close)
	all := append([]titan.Option{
		WithSettings(),
		titan.WithLogger(logger.WithWriter(logs)),
		titan.Listen("mem://"),
		titan.Invoke(func(n *netron.Netron) { a.n = n }),
	}, opts...)
	a.App = titan.New(all...)
	if err := a.App.Start(context.Background()); err != nil {
		tb.Fatalf("titantest: the app did not start: %v", err)
	}
	tb.Cleanup(func() {
		if err := a.App.Stop(context.Background()); err != nil {
			tb.Errorf("titantest: the app did not stop cleanly: %v", err)
		}
	})
	a.mem = a.Addr(tb, "mem")
	return a
}

// WithSettings is the configuration of a test app: no file, no
// environment variables, no watching, and sets applied as --set flags
// ("netron.listen=tcp://127.0.0.1:0", "logger.level=debug"). [StartApp]
// starts with WithSettings(); giving it again replaces that.
func WithSettings(sets ...string) titan.Option {
	return titan.WithConfig(config.Options{NoDefaultFile: true, Environ: []string{}, Sets: sets, NoWatch: true})
}

// Netron returns the app's Netron engine.
func (a *App) Netron() *netron.Netron { return a.n }

// Addrs returns the addresses the app listens on, its mem:// address
// among them.
func (a *App) Addrs() []string { return a.n.Addrs() }

// Addr returns the first address the app listens on with scheme ("tcp",
// "http", "mem", ...); it fails the test when there is none.
func (a *App) Addr(tb testing.TB, scheme string) string {
	tb.Helper()
	for _, addr := range a.n.Addrs() {
		if strings.HasPrefix(addr, scheme+"://") {
			return addr
		}
	}
	tb.Fatalf("titantest: the app listens on no %s:// address (it listens on %v); add one with titan.Listen or netron.listen", scheme, a.n.Addrs())
	return ""
}

// Dial connects a client to the app over its mem:// address, through the
// codec, contracts and interceptors as over any transport, and closes it
// when the test ends. [Dial] with [App.Addr] connects over a real
// transport.
func (a *App) Dial(tb testing.TB) *netron.Peer {
	tb.Helper()
	return Dial(tb, a.mem)
}

// testWriter writes an app's log lines to a test's log until close.
type testWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}
