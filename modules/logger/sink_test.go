package logger_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/titanframework/titan/modules/logger"
)

func TestFanOutToTwoSinks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nested", "dir", "app.log") // parents are created
	l, buf := newLogger(t, logger.Config{
		Format: logger.FormatText,
		Sinks: []logger.Sink{
			{Type: logger.SinkStderr},
			{Type: logger.SinkFile, Path: path, Format: logger.FormatJSON},
		},
	})
	l.For("netron").Info("listening", "addr", "tcp://127.0.0.1:7070", "password", "p")
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	text := buf.String()
	for _, want := range []string{"msg=listening", "module=netron", "addr=tcp://127.0.0.1:7070", "password=[REDACTED]"} {
		if !strings.Contains(text, want) {
			t.Errorf("stderr sink %q lacks %q", text, want)
		}
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("file sink: %v", err)
	}
	recs := records(t, data)
	if len(recs) != 1 {
		t.Fatalf("file sink has %d records (%q), want 1", len(recs), data)
	}
	rec := recs[0]
	if rec["msg"] != "listening" || rec["module"] != "netron" || rec["level"] != "INFO" || rec["password"] != logger.Redacted {
		t.Errorf("file record = %v", rec)
	}
}

func TestFileSinkAppends(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte(`{"msg":"old"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := logger.New(logger.Config{Format: logger.FormatJSON, Sinks: []logger.Sink{{Type: logger.SinkFile, Path: path}}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	l.Root().Info("new")
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := messages(t, data); len(got) != 2 || got[0] != "old" || got[1] != "new" {
		t.Errorf("file messages = %q, want [old new]", got)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	const esc = "\x1b["
	tests := []struct {
		name   string
		cfg    logger.Config
		opts   []logger.Option
		check  func(t *testing.T, out string)
		isJSON bool
	}{
		{
			name:   "json",
			cfg:    logger.Config{Format: logger.FormatJSON},
			isJSON: true,
		},
		{
			name:   "sink format overrides config format",
			cfg:    logger.Config{Format: logger.FormatText, Sinks: []logger.Sink{{Type: logger.SinkStdout, Format: logger.FormatJSON}}},
			isJSON: true,
		},
		{
			name: "text",
			cfg:  logger.Config{Format: logger.FormatText},
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "level=INFO msg=hello module=netron n=1") {
					t.Errorf("text output %q", out)
				}
			},
		},
		{
			name: "text is never coloured",
			cfg:  logger.Config{Format: logger.FormatText},
			opts: []logger.Option{logger.WithTTY(true)},
			check: func(t *testing.T, out string) {
				if strings.Contains(out, esc) || !strings.Contains(out, "msg=hello") {
					t.Errorf("text output %q", out)
				}
			},
		},
		{
			name: "auto off a terminal is plain text",
			cfg:  logger.Config{},
			check: func(t *testing.T, out string) {
				if strings.Contains(out, esc) || !strings.Contains(out, "level=INFO msg=hello module=netron") {
					t.Errorf("auto output %q", out)
				}
			},
		},
		{
			name: "auto with WithTTY(false) is plain text",
			cfg:  logger.Config{Format: logger.FormatAuto},
			opts: []logger.Option{logger.WithTTY(false)},
			check: func(t *testing.T, out string) {
				if strings.Contains(out, esc) || !strings.Contains(out, "msg=hello") {
					t.Errorf("auto output %q", out)
				}
			},
		},
		{
			name: "auto on a terminal is coloured",
			cfg:  logger.Config{Format: logger.FormatAuto},
			opts: []logger.Option{logger.WithTTY(true)},
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, esc) || !strings.Contains(out, "hello") || !strings.Contains(out, "module=") {
					t.Errorf("coloured output %q", out)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, buf := newLogger(t, tt.cfg, tt.opts...)
			l.For("netron").Info("hello", "n", 1)
			if tt.isJSON {
				recs := records(t, buf.Bytes())
				if len(recs) != 1 || recs[0]["msg"] != "hello" || recs[0]["module"] != "netron" || recs[0]["n"] != float64(1) {
					t.Errorf("JSON records = %v", recs)
				}
				return
			}
			if bytes.HasPrefix(bytes.TrimSpace(buf.Bytes()), []byte("{")) {
				t.Errorf("text sink wrote JSON: %q", buf.String())
			}
			tt.check(t, buf.String())
		})
	}
}

func TestSinkLevel(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "errors.log")
	l, buf := newLogger(t, logger.Config{
		Format: logger.FormatJSON,
		Levels: map[string]string{"netron": "debug"},
		Sinks: []logger.Sink{
			{Type: logger.SinkStderr},
			{Type: logger.SinkFile, Path: path, Level: "warn"},
		},
	})
	log := l.For("netron")
	log.Debug("d")
	log.Info("i")
	log.Warn("w")
	l.For("config").Debug("hidden by module level")

	if got := strings.Join(messages(t, buf.Bytes()), ","); got != "d,i,w" {
		t.Errorf("stderr sink messages = %s, want d,i,w", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(messages(t, data), ","); got != "w" {
		t.Errorf("warn sink messages = %s, want w", got)
	}
}

func TestAddSource(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON, AddSource: true})
	l.For("netron").Info("here")
	recs := records(t, buf.Bytes())
	src, _ := lookup(recs[0], "source.file")
	if file, _ := src.(string); !strings.HasSuffix(file, "sink_test.go") {
		t.Errorf("source.file = %v, want this test file", src)
	}
}

// recordingHandler keeps the records it handles.
type recordingHandler struct {
	mu      sync.Mutex
	level   slog.Level
	records []slog.Record
}

func (h *recordingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) attrs() []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, r := range h.records {
		m := map[string]string{"msg": r.Message}
		r.Attrs(func(a slog.Attr) bool {
			m[a.Key] = a.Value.String()
			return true
		})
		out = append(out, m)
	}
	return out
}

func TestWithHandlerIsAnExtraSink(t *testing.T) {
	t.Parallel()
	extra := &recordingHandler{level: slog.LevelInfo}
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON, Levels: map[string]string{"netron": "debug"}}, logger.WithHandler(extra))
	log := l.Root()
	log.Debug("root debug")                 // below the module level: nowhere
	l.For("netron").Debug("netron debug")   // stderr only: below the extra handler's level
	log.Info("login", "token", "t", "n", 1) // both, redacted

	if got := strings.Join(messages(t, buf.Bytes()), ","); got != "netron debug,login" {
		t.Errorf("stderr sink messages = %s", got)
	}
	got := extra.attrs()
	if len(got) != 1 || got[0]["msg"] != "login" || got[0]["token"] != logger.Redacted || got[0]["n"] != "1" {
		t.Errorf("extra handler records = %v, want one redacted login record", got)
	}

	// The extra sink survives Apply.
	if err := l.Apply(logger.Config{Format: logger.FormatJSON, Level: "warn"}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	log.Warn("after apply")
	if got := extra.attrs(); len(got) != 2 || got[1]["msg"] != "after apply" {
		t.Errorf("extra handler records after Apply = %v", got)
	}
}

func TestApplyReplacesSinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.log"), filepath.Join(dir, "second.log")
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON})
	log := l.For("netron").With("peer", "p1")

	steps := []struct {
		msg   string
		sinks []logger.Sink
	}{
		{msg: "one"}, // initial: stderr only
		{msg: "two", sinks: []logger.Sink{{Type: logger.SinkFile, Path: first}}},
		{msg: "three", sinks: []logger.Sink{{Type: logger.SinkFile, Path: first}, {Type: logger.SinkFile, Path: second}}},
		{msg: "four", sinks: []logger.Sink{{Type: logger.SinkStderr}, {Type: logger.SinkFile, Path: second, Format: logger.FormatText}}},
	}
	for i, step := range steps {
		if i > 0 {
			if err := l.Apply(logger.Config{Format: logger.FormatJSON, Sinks: step.sinks}); err != nil {
				t.Fatalf("Apply %s: %v", step.msg, err)
			}
		}
		log.Info(step.msg)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	if got := strings.Join(messages(t, buf.Bytes()), ","); got != "one,four" {
		t.Errorf("stderr messages = %s, want one,four", got)
	}
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(messages(t, data), ","); got != "two,three" {
		t.Errorf("first.log messages = %s, want two,three", got)
	}
	data, err = os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"msg":"three"`) || !strings.Contains(lines[1], "msg=four module=netron peer=p1") {
		t.Errorf("second.log = %q, want a JSON line three and a text line four", data)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "app.log")
	var buf bytes.Buffer
	l, err := logger.New(logger.Config{
		Format: logger.FormatJSON,
		Sinks:  []logger.Sink{{Type: logger.SinkStdout}, {Type: logger.SinkFile, Path: path}},
	}, logger.WithWriter(&buf))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	l.Root().Info("after close") // file write fails quietly; stdout still works
	if got := messages(t, buf.Bytes()); len(got) != 1 || got[0] != "after close" {
		t.Errorf("stdout messages = %q", got)
	}
	if data, err := os.ReadFile(path); err != nil || len(data) != 0 {
		t.Errorf("closed file = %q, %v; want empty", data, err)
	}
	if err := l.Apply(logger.DefaultConfig()); !errors.Is(err, logger.ErrClosed) {
		t.Errorf("Apply after Close = %v, want ErrClosed", err)
	}
}
