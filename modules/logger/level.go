package logger

import (
	"fmt"
	"log/slog"
	"strings"
)

// ParseLevel parses one of "debug", "info", "warn" or "error", ignoring
// case, into the matching [slog.Level]. Any other string, including the
// empty string, is an error that quotes it.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("unknown level %q (want debug, info, warn or error)", s)
}
