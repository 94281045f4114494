package logger_test

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/titanframework/titan/modules/logger"
)

func TestFxEventLogger(t *testing.T) {
	t.Parallel()
	ok := fx.Options(fx.Provide(func() int { return 42 }), fx.Invoke(func(int) {}))
	failing := fx.Invoke(func() error { return errors.New("boom") })
	tests := []struct {
		name string
		cfg  logger.Config
		app  fx.Option
		want []string // substrings of the output; none means no output
	}{
		{name: "quiet at info", cfg: logger.Config{Format: logger.FormatJSON}, app: ok},
		{
			name: "visible with fx at debug",
			cfg:  logger.Config{Format: logger.FormatJSON, Levels: map[string]string{"fx": "debug"}},
			app:  ok,
			want: []string{`"level":"DEBUG"`, `"module":"fx"`, `"msg":"provided"`, `"msg":"invoking"`},
		},
		{
			name: "visible with global debug",
			cfg:  logger.Config{Format: logger.FormatJSON, Level: "debug"},
			app:  ok,
			want: []string{`"module":"fx"`, `"msg":"invoking"`},
		},
		{
			name: "errors shown at info",
			cfg:  logger.Config{Format: logger.FormatJSON},
			app:  failing,
			want: []string{`"level":"ERROR"`, `"module":"fx"`, `"msg":"invoke failed"`, "boom"},
		},
		{name: "errors hidden when fx is off", cfg: logger.Config{Format: logger.FormatJSON, Levels: map[string]string{"fx": "error"}}, app: ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, buf := newLogger(t, tt.cfg)
			app := fx.New(tt.app, fx.WithLogger(func() fxevent.Logger { return logger.FxEventLogger(l) }))
			_ = app.Err() // the failing case fails on purpose; its log is checked below
			out := buf.String()
			if len(tt.want) == 0 && out != "" {
				t.Errorf("output %q, want none", out)
			}
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("output %q lacks %q", out, want)
				}
			}
		})
	}
}

func TestFxEventLoggerNil(t *testing.T) {
	t.Parallel()
	if got := logger.FxEventLogger(nil); got != fxevent.NopLogger {
		t.Errorf("FxEventLogger(nil) = %T, want fxevent.NopLogger", got)
	}
}
