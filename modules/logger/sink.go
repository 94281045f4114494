package logger

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"

	"github.com/lmittmann/tint"
	"github.com/mattn/go-isatty"
)

// allLevels is the level of a sink without a minimum of its own: every
// record the module levels let through.
const allLevels = slog.Level(math.MinInt)

// openFiles opens the file sinks of p, reusing the files in open (keyed by
// absolute path). It returns the files p uses, keyed the same way. On error
// it closes the files it opened and reports every sink that failed.
func openFiles(sinks []sinkPlan, open map[string]*os.File) (map[string]*os.File, error) {
	files := make(map[string]*os.File)
	var fresh []*os.File
	var errs []error
	for _, sp := range sinks {
		if sp.kind != SinkFile {
			continue
		}
		key := fileKey(sp.path)
		if _, ok := files[key]; ok {
			continue
		}
		if f, ok := open[key]; ok {
			files[key] = f
			continue
		}
		f, err := openFile(sp.path)
		if err != nil {
			errs = append(errs, &FieldError{Field: sp.field + ".path", Err: err})
			continue
		}
		files[key] = f
		fresh = append(fresh, f)
	}
	if len(errs) > 0 {
		for _, f := range fresh {
			_ = f.Close() // opened for nothing; the open error is what matters
		}
		return nil, errors.Join(errs...)
	}
	return files, nil
}

func fileKey(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

func openFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
}

// sinkHandler returns the handler that formats records for one sink.
func (l *Logger) sinkHandler(sp sinkPlan, p plan, files map[string]*os.File) slog.Handler {
	var w io.Writer
	switch sp.kind {
	case SinkStdout:
		w = l.opts.stdout
	case SinkStderr:
		w = l.opts.stderr
	default:
		w = files[fileKey(sp.path)]
	}
	level := allLevels
	if sp.hasLevel {
		level = sp.level
	}
	switch {
	case sp.format == FormatJSON:
		return slog.NewJSONHandler(w, &slog.HandlerOptions{AddSource: p.addSource, Level: level})
	case sp.format == FormatAuto && l.colour(w):
		return tint.NewTextHandler(w, &tint.Options{AddSource: p.addSource, Level: level})
	default:
		return slog.NewTextHandler(w, &slog.HandlerOptions{AddSource: p.addSource, Level: level})
	}
}

// colour reports whether an "auto" sink writing to w is coloured.
func (l *Logger) colour(w io.Writer) bool {
	if l.opts.tty != nil {
		return *l.opts.tty
	}
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
