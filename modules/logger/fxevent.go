package logger

import (
	"context"
	"log/slog"

	"go.uber.org/fx/fxevent"
)

// FxEventLogger returns an [fxevent.Logger] that writes fx's events to
// l.For("fx"): ordinary events at debug level, so they are hidden unless
// the "fx" module (or the global level) is at debug, and failures at error
// level. A nil l gives [fxevent.NopLogger].
func FxEventLogger(l *Logger) fxevent.Logger {
	if l == nil {
		return fxevent.NopLogger
	}
	fl := &fxevent.SlogLogger{Logger: l.For("fx")}
	fl.UseContext(context.Background())
	fl.UseLogLevel(slog.LevelDebug)
	fl.UseErrorLevel(slog.LevelError)
	return fl
}
