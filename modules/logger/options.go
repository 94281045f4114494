package logger

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Option configures a [Logger] at construction. Options are fixed for the
// Logger's lifetime; [Logger.Apply] keeps them.
type Option interface {
	apply(*options) error
	// String describes the option for diagnostics.
	String() string
}

// options is what the Options set.
type options struct {
	stdout, stderr io.Writer
	extra          []slog.Handler
	tty            *bool
}

// WithWriter makes the stdout and stderr sinks write to w instead of the
// process's standard streams; file sinks are unaffected. Writes to w are
// serialised, so w need not be safe for concurrent use. It is meant for
// tests. A nil w is an error from [New].
func WithWriter(w io.Writer) Option { return writerOption{w} }

type writerOption struct{ w io.Writer }

func (o writerOption) apply(opts *options) error {
	if o.w == nil {
		return errors.New("logger.WithWriter: nil writer")
	}
	lw := &lockedWriter{w: o.w}
	opts.stdout, opts.stderr = lw, lw
	return nil
}

func (o writerOption) String() string { return fmt.Sprintf("logger.WithWriter(%T)", o.w) }

// WithHandler adds h as an extra sink next to the configured ones. It
// receives the records that pass the module levels, after redaction, and
// filters them further with its own Enabled method. It survives
// [Logger.Apply] and is not closed by [Logger.Close]. A nil h is an error
// from [New].
func WithHandler(h slog.Handler) Option { return handlerOption{h} }

type handlerOption struct{ h slog.Handler }

func (o handlerOption) apply(opts *options) error {
	if o.h == nil {
		return errors.New("logger.WithHandler: nil handler")
	}
	opts.extra = append(opts.extra, o.h)
	return nil
}

func (o handlerOption) String() string { return fmt.Sprintf("logger.WithHandler(%T)", o.h) }

// WithTTY overrides terminal detection for the sinks whose format is
// "auto": true writes coloured text, false plain text. Without it, a sink
// is coloured when it is a terminal and the NO_COLOR environment variable
// is empty.
func WithTTY(tty bool) Option { return ttyOption(tty) }

type ttyOption bool

func (o ttyOption) apply(opts *options) error {
	tty := bool(o)
	opts.tty = &tty
	return nil
}

func (o ttyOption) String() string { return fmt.Sprintf("logger.WithTTY(%t)", bool(o)) }

// lockedWriter serialises writes to a writer shared by several handlers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (lw *lockedWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}
