package logger_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/logger"
)

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	cfg := logger.DefaultConfig()
	if cfg.Level != "info" || cfg.Format != logger.FormatAuto || len(cfg.Sinks) != 1 || cfg.Sinks[0].Type != logger.SinkStderr {
		t.Errorf("DefaultConfig() = %+v", cfg)
	}
	for _, c := range []logger.Config{cfg, {}} {
		l, buf := newLogger(t, c)
		l.For("netron").Debug("hidden")
		l.For("netron").Info("shown")
		out := buf.String()
		if strings.Contains(out, "hidden") || !strings.Contains(out, "msg=shown module=netron") {
			t.Errorf("config %+v wrote %q, want only the info record as text", c, out)
		}
	}
}

// fieldsOf returns the Field of every FieldError in err.
func fieldsOf(err error) []string {
	var out []string
	var walk func(error)
	walk = func(err error) {
		var fe *logger.FieldError
		if errors.As(err, &fe) && err == error(fe) {
			out = append(out, fe.Field)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	slices.Sort(out)
	return out
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notADir := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     logger.Config
		fields  []string // FieldError.Field of each reported problem, sorted
		message string   // a substring of the error text
	}{
		{
			name:    "unknown global level",
			cfg:     logger.Config{Level: "verbose"},
			fields:  []string{"logger.level"},
			message: `logger.level: unknown level "verbose"`,
		},
		{
			name:    "unknown module level",
			cfg:     logger.Config{Levels: map[string]string{"netron": "verbose", "config": "debug"}},
			fields:  []string{"logger.levels.netron"},
			message: `logger.levels.netron: unknown level "verbose"`,
		},
		{
			name:    "empty module name",
			cfg:     logger.Config{Levels: map[string]string{"": "debug"}},
			fields:  []string{"logger.levels"},
			message: "empty module name",
		},
		{
			name:    "unknown format",
			cfg:     logger.Config{Format: "xml"},
			fields:  []string{"logger.format"},
			message: `logger.format: unknown format "xml"`,
		},
		{
			name:    "unknown sink type",
			cfg:     logger.Config{Sinks: []logger.Sink{{Type: "stderr"}, {Type: "kafka"}}},
			fields:  []string{"logger.sinks[1].type"},
			message: `logger.sinks[1].type: unknown sink type "kafka"`,
		},
		{
			name:    "missing sink type",
			cfg:     logger.Config{Sinks: []logger.Sink{{}}},
			fields:  []string{"logger.sinks[0].type"},
			message: "logger.sinks[0].type: required",
		},
		{
			name:    "file sink without path",
			cfg:     logger.Config{Sinks: []logger.Sink{{Type: logger.SinkFile}}},
			fields:  []string{"logger.sinks[0].path"},
			message: "logger.sinks[0].path: required for a file sink",
		},
		{
			name:   "path on a stream sink",
			cfg:    logger.Config{Sinks: []logger.Sink{{Type: logger.SinkStdout, Path: "x.log"}}},
			fields: []string{"logger.sinks[0].path"},
		},
		{
			name:   "bad sink format and level",
			cfg:    logger.Config{Sinks: []logger.Sink{{Type: logger.SinkStdout, Format: "yaml", Level: "loud"}}},
			fields: []string{"logger.sinks[0].format", "logger.sinks[0].level"},
		},
		{
			name:    "unwritable path",
			cfg:     logger.Config{Sinks: []logger.Sink{{Type: logger.SinkFile, Path: filepath.Join(notADir, "sub", "app.log")}}},
			fields:  []string{"logger.sinks[0].path"},
			message: "logger.sinks[0].path: mkdir " + notADir,
		},
		{
			name:    "directory as path",
			cfg:     logger.Config{Sinks: []logger.Sink{{Type: logger.SinkFile, Path: dir}}},
			fields:  []string{"logger.sinks[0].path"},
			message: "is a directory",
		},
		{
			name:   "empty redact key",
			cfg:    logger.Config{Redact: []string{"ssn", "_"}},
			fields: []string{"logger.redact[1]"},
		},
		{
			name: "every problem listed",
			cfg: logger.Config{
				Level:  "loud",
				Levels: map[string]string{"a": "x", "b": "y"},
				Sinks:  []logger.Sink{{Type: logger.SinkFile}, {Type: "syslog"}},
			},
			fields: []string{"logger.level", "logger.levels.a", "logger.levels.b", "logger.sinks[0].path", "logger.sinks[1].type"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := logger.New(tt.cfg)
			if err == nil {
				_ = l.Close()
				t.Fatal("New succeeded, want an error")
			}
			if l != nil {
				t.Error("New returned a Logger with its error")
			}
			if got := fieldsOf(err); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %q, want %q (error: %v)", got, tt.fields, err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q lacks %q", err, tt.message)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []logger.Option
		message string
	}{
		{"nil writer", []logger.Option{logger.WithWriter(nil)}, "logger.WithWriter: nil writer"},
		{"nil handler", []logger.Option{logger.WithHandler(nil)}, "logger.WithHandler: nil handler"},
		{"nil option", []logger.Option{logger.WithTTY(true), nil}, "logger: option 1 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := logger.New(logger.Config{}, tt.opts...)
			if err == nil || l != nil {
				t.Fatalf("New = %v, %v; want an error", l, err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q lacks %q", err, tt.message)
			}
		})
	}
}

func TestOptionString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opt  logger.Option
		want string
	}{
		{logger.WithTTY(true), "logger.WithTTY(true)"},
		{logger.WithWriter(os.Stderr), "logger.WithWriter(*os.File)"},
		{logger.WithHandler(&recordingHandler{}), "logger.WithHandler(*logger_test.recordingHandler)"},
	}
	for _, tt := range tests {
		if got := tt.opt.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestApplyWithBadConfigKeepsOldState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notADir := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	goodPath := filepath.Join(dir, "good.log")
	badPath := filepath.Join(notADir, "app.log")
	tests := []struct {
		name  string
		cfg   logger.Config
		field string
	}{
		{
			name: "unopenable sink",
			cfg: logger.Config{
				Format: logger.FormatText, Level: "error",
				Levels: map[string]string{"netron": "debug"},
				Redact: []string{"user"},
				Sinks:  []logger.Sink{{Type: logger.SinkFile, Path: goodPath}, {Type: logger.SinkFile, Path: badPath}},
			},
			field: "logger.sinks[1].path",
		},
		{
			name: "invalid level",
			cfg: logger.Config{
				Format: logger.FormatText, Level: "error",
				Levels: map[string]string{"netron": "debug", "config": "chatty"},
				Redact: []string{"user"},
			},
			field: "logger.levels.config",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON, Redact: []string{"ssn"}})
			netron := l.For("netron").With("user", "bob")

			err := l.Apply(tt.cfg)
			var fe *logger.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("Apply error = %v, want a FieldError on %s", err, tt.field)
			}

			netron.Debug("debug")           // old level: info
			netron.Info("info", "ssn", "1") // old redaction, old format, old sink
			l.For("config").Info("config")  // old global level
			recs := records(t, buf.Bytes()) // fails unless still JSON
			if len(recs) != 2 || recs[0]["msg"] != "info" || recs[1]["msg"] != "config" {
				t.Fatalf("records = %v, want info and config", recs)
			}
			if recs[0]["user"] != "bob" || recs[0]["ssn"] != logger.Redacted {
				t.Errorf("record %v: want user kept and ssn redacted", recs[0])
			}
			if data, err := os.ReadFile(goodPath); err == nil && len(data) > 0 {
				t.Errorf("sink of the failed Apply got %q", data)
			}
		})
	}
}
