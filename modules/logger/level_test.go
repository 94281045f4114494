package logger_test

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/titanframework/titan/modules/logger"
)

func TestParseLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "debug", want: slog.LevelDebug},
		{in: "info", want: slog.LevelInfo},
		{in: "warn", want: slog.LevelWarn},
		{in: "error", want: slog.LevelError},
		{in: "DEBUG", want: slog.LevelDebug},
		{in: "Warn", want: slog.LevelWarn},
		{in: "", wantErr: true},
		{in: "verbose", wantErr: true},
		{in: "warning", wantErr: true},
		{in: "info+2", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := logger.ParseLevel(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseLevel(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestModuleLevels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cfg    logger.Config
		module string
		level  slog.Level
		want   bool
	}{
		{"module debug emits debug", logger.Config{Levels: map[string]string{"netron": "debug"}}, "netron", slog.LevelDebug, true},
		{"other module stays at info", logger.Config{Levels: map[string]string{"netron": "debug"}}, "config", slog.LevelDebug, false},
		{"other module emits info", logger.Config{Levels: map[string]string{"netron": "debug"}}, "config", slog.LevelInfo, true},
		{"root follows global level", logger.Config{Levels: map[string]string{"netron": "debug"}}, "", slog.LevelDebug, false},
		{"module stricter than global", logger.Config{Level: "debug", Levels: map[string]string{"netron": "error"}}, "netron", slog.LevelWarn, false},
		{"module stricter than global emits error", logger.Config{Level: "debug", Levels: map[string]string{"netron": "error"}}, "netron", slog.LevelError, true},
		{"global warn hides info", logger.Config{Level: "warn"}, "config", slog.LevelInfo, false},
		{"global warn emits warn", logger.Config{Level: "warn"}, "config", slog.LevelWarn, true},
		{"global debug reaches root", logger.Config{Level: "debug"}, "", slog.LevelDebug, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Format = logger.FormatJSON
			l, buf := newLogger(t, tt.cfg)
			log := l.For(tt.module)
			log.Log(t.Context(), tt.level, "probe")
			if got := log.Enabled(t.Context(), tt.level); got != tt.want {
				t.Errorf("Enabled(%v) = %v, want %v", tt.level, got, tt.want)
			}
			recs := records(t, buf.Bytes())
			if got := len(recs) == 1; got != tt.want {
				t.Fatalf("emitted = %v (%q), want %v", got, buf.String(), tt.want)
			}
			if !tt.want {
				return
			}
			module, hasModule := recs[0]["module"]
			switch {
			case tt.module == "" && hasModule:
				t.Errorf("root record has module=%v", module)
			case tt.module != "" && module != tt.module:
				t.Errorf("module = %v, want %q", module, tt.module)
			}
		})
	}
}

func TestForReturnsOneLoggerPerModule(t *testing.T) {
	t.Parallel()
	l, _ := newLogger(t, logger.Config{})
	if l.For("netron") != l.For("netron") {
		t.Error("For(netron) returned two loggers")
	}
	if l.For("netron") == l.For("config") {
		t.Error("For(netron) and For(config) are one logger")
	}
	if l.For("") != l.Root() {
		t.Error(`For("") is not Root()`)
	}
}

func TestApplyChangesLevelsLive(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON})
	netron := l.For("netron")
	derived := netron.With("peer", "p1").WithGroup("call")
	config := l.For("config")
	root := l.Root()

	logAll := func(step string) []string {
		buf.Reset()
		for _, log := range []*slog.Logger{netron, derived, config, root} {
			log.Debug(step + " debug")
			log.Info(step + " info")
		}
		return messages(t, buf.Bytes())
	}

	steps := []struct {
		name string
		cfg  logger.Config
		want []string
	}{
		{
			name: "initial",
			cfg:  logger.Config{Format: logger.FormatJSON},
			want: []string{"initial info", "initial info", "initial info", "initial info"},
		},
		{
			name: "netron-debug",
			cfg:  logger.Config{Format: logger.FormatJSON, Levels: map[string]string{"netron": "debug"}},
			want: []string{
				"netron-debug debug", "netron-debug info", // netron
				"netron-debug debug", "netron-debug info", // derived from netron
				"netron-debug info", "netron-debug info", // config, root
			},
		},
		{
			name: "global-warn",
			cfg:  logger.Config{Format: logger.FormatJSON, Level: "warn", Levels: map[string]string{"config": "debug"}},
			want: []string{"global-warn debug", "global-warn info"},
		},
		{
			name: "back-to-default",
			cfg:  logger.Config{Format: logger.FormatJSON},
			want: []string{"back-to-default info", "back-to-default info", "back-to-default info", "back-to-default info"},
		},
	}
	for _, step := range steps {
		if step.name != "initial" {
			if err := l.Apply(step.cfg); err != nil {
				t.Fatalf("%s: Apply: %v", step.name, err)
			}
		}
		if got := logAll(step.name); !slices.Equal(got, step.want) {
			t.Errorf("%s: records %q, want %q", step.name, got, step.want)
		}
	}
}

func TestDerivedLoggerKeepsModuleAndAttrs(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON, Levels: map[string]string{"netron": "debug"}})
	l.For("netron").With("peer", "p1").WithGroup("call").Debug("sent", "id", 7)
	recs := records(t, buf.Bytes())
	if len(recs) != 1 {
		t.Fatalf("got %d records (%q), want 1", len(recs), buf.String())
	}
	rec := recs[0]
	call, _ := rec["call"].(map[string]any)
	if rec["module"] != "netron" || rec["peer"] != "p1" || call["id"] != float64(7) {
		t.Errorf("record = %v, want module=netron peer=p1 call.id=7", rec)
	}
}
