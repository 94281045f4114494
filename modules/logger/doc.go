// Package logger builds Titan's structured logging on [log/slog].
//
// A [Logger] owns the output sinks (stdout, stderr, files, extra handlers)
// and a table of levels. [Logger.For] hands out one child [*slog.Logger] per
// module; every record it writes carries the attribute module=<name>, and
// its minimum level is the module's entry in [Config.Levels], or
// [Config.Level] when the module has none. The level check is a single
// atomic load, so a disabled debug call costs almost nothing.
//
// [Logger.Apply] changes the configuration of a running Logger: global and
// per-module levels, the redaction list and the sinks take effect at once
// for every child logger already handed out, including loggers derived from
// them with [slog.Logger.With] and [slog.Logger.WithGroup].
//
// Records pass through two stages before they are written:
//
//  1. redaction: an attribute whose key is sensitive (password, secret,
//     token, authorization, cookie, ... and the keys in [Config.Redact]) has
//     its value replaced by "[REDACTED]", at any group depth and for
//     attributes added with With as well, as has every attribute under a
//     logger's WithGroup of a sensitive name; so has a sensitive key of a map
//     with string keys logged as a value (an http.Header, a
//     map[string]any, and the maps in it to 8 levels; a map deeper than
//     that is written as "[REDACTED]" whole), which is then written as a
//     redacted map[string]any copy;
//  2. fan-out: the record goes to every sink (with
//     [github.com/samber/slog-multi]), each of which may set its own format
//     and minimum level.
//
// Text sinks on a terminal are coloured with [github.com/lmittmann/tint];
// other text sinks use [slog.TextHandler], JSON sinks use
// [slog.JSONHandler].
//
// [FxEventLogger] routes fx's own event log through the module "fx" at debug
// level, so the fx start-up chatter is hidden unless Levels["fx"] (or Level)
// is debug; fx errors are always logged at error level.
package logger
