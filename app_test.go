package titan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelper()
		return
	}
	goleak.VerifyTestMain(m)
}

// quiet keeps tests independent of the machine's titan.yaml and TITAN_* env.
func quiet(extra ...string) config.Options {
	return config.Options{NoDefaultFile: true, Environ: []string{}, Sets: extra, NoWatch: true}
}

type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

type C struct{}
type B struct{}
type A struct{}

func hooks(lc fx.Lifecycle, ev *events, name string) {
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { ev.add("start " + name); return nil },
		OnStop:  func(context.Context) error { ev.add("stop " + name); return nil },
	})
}

func TestStartOrderFollowsDependencies(t *testing.T) {
	t.Parallel()
	ev := &events{}
	app := titan.New(
		titan.WithConfig(quiet()),
		titan.Supply(ev),
		// Registered in the opposite order of their dependencies.
		titan.Provide(
			func(lc fx.Lifecycle, ev *events, _ *B) *A { hooks(lc, ev, "A"); return &A{} },
			func(lc fx.Lifecycle, ev *events, _ *C) *B { hooks(lc, ev, "B"); return &B{} },
			func(lc fx.Lifecycle, ev *events) *C { hooks(lc, ev, "C"); return &C{} },
		),
		titan.Invoke(func(*A) {}),
	)
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"start C", "start B", "start A", "stop A", "stop B", "stop C"}
	if !slices.Equal(ev.log, want) {
		t.Fatalf("got %v, want %v", ev.log, want)
	}
}

type DB struct{}
type Service struct{}
type Missing struct{}

func NewDB() (*DB, error)               { return nil, errors.New("connection refused") }
func NewService(*DB) *Service           { return &Service{} }
func NewNeedsMissing(*Missing) *Service { return &Service{} }

func TestStartupErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []titan.Option
		want []string
	}{
		{"failing constructor", []titan.Option{titan.Provide(NewDB, NewService), titan.Invoke(func(*Service) {})},
			[]string{"start-up failed", "titan_test.NewDB", "app_test.go:", "connection refused"}},
		{"missing dependency", []titan.Option{titan.Provide(NewNeedsMissing), titan.Invoke(func(*Service) {})},
			[]string{"titan_test.NewNeedsMissing (app_test.go:", "needs *titan_test.Missing, which nothing provides"}},
		{"app-level option in module", []titan.Option{titan.Module("billing", titan.StopTimeout(time.Second))},
			[]string{`Module("billing")`, "StopTimeout(1s)", "app-level"}},
		{"bad timeout", []titan.Option{titan.StartTimeout(0)}, []string{"StartTimeout(0s)", "positive"}},
		{"bad config", []titan.Option{titan.ConfigSection("hello", helloConfig{Greeting: "hi", Times: 1}),
			titan.WithConfig(quiet("hello.times=0", "logger.level=loud"))},
			[]string{"hello.times", "logger.level", "flag --set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]titan.Option{titan.WithConfig(quiet())}, tt.opts...)
			if tt.name == "bad config" {
				opts = tt.opts
			}
			app := titan.New(opts...)
			err := app.Start(context.Background())
			if err == nil {
				t.Fatal("Start succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "\n") && tt.name != "bad config" {
				t.Errorf("error is not one line: %q", err)
			}
			if !errors.Is(app.Err(), err) && app.Err() != nil && app.Err().Error() != err.Error() {
				t.Errorf("Err() = %v, Start() = %v", app.Err(), err)
			}
		})
	}
}

func TestFailingStartHookStopsStartedOnes(t *testing.T) {
	t.Parallel()
	ev := &events{}
	app := titan.New(
		titan.WithConfig(quiet()),
		titan.Supply(ev),
		titan.Invoke(func(lc fx.Lifecycle) { hooks(lc, ev, "first") }),
		titan.Invoke(func(lc fx.Lifecycle) {
			lc.Append(fx.StartHook(func(context.Context) error { return errors.New("port in use") }))
		}),
	)
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "port in use") {
		t.Fatalf("Start = %v", err)
	}
	if want := []string{"start first", "stop first"}; !slices.Equal(ev.log, want) {
		t.Fatalf("got %v, want %v", ev.log, want)
	}
}

type helloConfig struct {
	Greeting string `json:"greeting" jsonschema:"minLength=1"`
	Times    int    `json:"times" jsonschema:"minimum=1,maximum=10"`
	Token    string `json:"token,omitempty" secret:"true"`
}

func TestConfigSectionPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(file, []byte("hello:\n  greeting: from-file\n  times: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		environ []string
		sets    []string
		want    helloConfig
	}{
		{"file", nil, nil, helloConfig{"from-file", 2, ""}},
		{"env", []string{"APP_HELLO__TIMES=3"}, nil, helloConfig{"from-file", 3, ""}},
		{"flag", []string{"APP_HELLO__TIMES=3"}, []string{"hello.times=4"}, helloConfig{"from-file", 4, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got helloConfig
			app := titan.New(
				titan.WithConfig(config.Options{NoDefaultFile: true, Environ: tt.environ, Sets: tt.sets}),
				titan.WithConfigFile(file),
				titan.WithEnvPrefix("APP_"),
				titan.ConfigSection("hello", helloConfig{Greeting: "default", Times: 1}),
				titan.Invoke(func(c *config.Config) (err error) {
					got, err = config.Section[helloConfig](c, "hello")
					return err
				}),
			)
			if err := app.Err(); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestConfigFileBeforeWithConfig: WithConfigFile and WithEnvPrefix
// apply when a WithConfig (titantest.WithSettings) comes after them, not
// only before.
func TestConfigFileBeforeWithConfig(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(file, []byte("hello:\n  greeting: from-file\n  times: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got helloConfig
	app := titan.New(
		titan.WithConfigFile(file),
		titan.WithEnvPrefix("APP_"),
		titan.WithConfig(config.Options{NoDefaultFile: true, Environ: []string{"APP_HELLO__TIMES=3"}}),
		titan.ConfigSection("hello", helloConfig{Greeting: "default", Times: 1}),
		titan.Invoke(func(c *config.Config) (err error) {
			got, err = config.Section[helloConfig](c, "hello")
			return err
		}),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	if want := (helloConfig{"from-file", 3, ""}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// logRecords parses the JSON log records written to buf.
func logRecords(t *testing.T, buf *testsrv.LogBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

type Billing struct{ log *slog.Logger }

func TestModuleLoggerAndLevels(t *testing.T) {
	t.Parallel()
	buf := &testsrv.LogBuffer{}
	var billing *Billing
	var root *slog.Logger
	app := titan.New(
		titan.WithConfig(quiet("logger.format=json", "logger.levels.billing=debug")),
		titan.WithLogger(logger.WithWriter(buf)),
		titan.Module("billing",
			titan.Provide(func(l *slog.Logger) *Billing { return &Billing{log: l} }),
			titan.Invoke(func(b *Billing) { billing = b }),
		),
		titan.Invoke(func(l *slog.Logger) { root = l }),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	billing.log.Debug("charged", "amount", 3, "password", "hunter2")
	root.Debug("hidden at info")
	root.Info("root info")
	recs := logRecords(t, buf)
	var charged, rootInfo map[string]any
	for _, r := range recs {
		switch r["msg"] {
		case "charged":
			charged = r
		case "root info":
			rootInfo = r
		case "hidden at info":
			t.Errorf("root debug record emitted at level info: %v", r)
		}
	}
	if charged == nil || charged["module"] != "billing" || charged["password"] != "[REDACTED]" {
		t.Fatalf("billing record = %v (all: %v)", charged, recs)
	}
	if rootInfo == nil || rootInfo["module"] != nil {
		t.Fatalf("root record = %v", rootInfo)
	}
}

func TestLevelsFollowConfigReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "titan.yaml")
	write := func(body string) {
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("logger:\n  format: json\n")
	buf := &testsrv.LogBuffer{}
	var l *slog.Logger
	app := titan.New(
		titan.WithConfig(config.Options{Files: []string{file}, Environ: []string{}, NoWatch: true}),
		titan.WithLogger(logger.WithWriter(buf)),
		titan.Module("netron", titan.Invoke(func(log *slog.Logger) { l = log })),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	l.Debug("before")
	write("logger:\n  format: json\n  levels:\n    netron: debug\n")
	if err := app.Config().Reload(); err != nil {
		t.Fatal(err)
	}
	l.Debug("after")
	var msgs []string
	for _, r := range logRecords(t, buf) {
		if r["module"] == "netron" {
			msgs = append(msgs, r["msg"].(string))
		}
	}
	if !slices.Equal(msgs, []string{"after"}) {
		t.Fatalf("netron records = %v, want [after]", msgs)
	}
}

// TestNilOptionIsAnError: a nil Option (an option variable left unset)
// is reported by its position, in New and in a Module, instead of
// panicking while the app is built.
func TestNilOptionIsAnError(t *testing.T) {
	t.Parallel()
	var unset titan.Option
	for name, tt := range map[string]struct {
		opts []titan.Option
		want string
	}{
		"New":    {[]titan.Option{titan.WithConfig(quiet()), unset}, "titan: option 2 of New is nil"},
		"Module": {[]titan.Option{titan.WithConfig(quiet()), titan.Module("billing", unset)}, `Module("billing"): option 1 is nil`},
		"WithLogger": {[]titan.Option{titan.WithConfig(quiet()), titan.WithLogger(logger.WithWriter(&bytes.Buffer{}), nil)},
			`WithLogger(logger.WithWriter(*bytes.Buffer), nil): option 2 is nil`},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("building the app panicked: %v", r)
				}
			}()
			err := titan.New(tt.opts...).Err()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
