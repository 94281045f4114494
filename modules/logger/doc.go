// Package logger builds Titan's structured logging on [log/slog].
//
// A [Logger] owns the output sinks (stdout, stderr, files, extra handlers)
// and a table of levels. [Logger.For] hands out one child [*slog.Logger] per
// module; every record it writes carries the attribute module=<name>, and
// its minimum level is the module's entry in [Config.Levels] (an entry
// spelled as the module, or else one matching it ignoring case, '_' and
// '-'), or [Config.Level] when the module has none. The level check is a
// single atomic load, so a disabled debug call costs almost nothing.
//
// [Logger.Apply] changes the configuration of a running Logger: global and
// per-module levels, the redaction list and the sinks take effect at once
// for every child logger already handed out, including loggers derived from
// them with [slog.Logger.With] and [slog.Logger.WithGroup].
//
// Records pass through two stages before they are written:
//
//  1. redaction: an attribute whose key is sensitive has its value
//     replaced by "[REDACTED]", at any group depth and for attributes added
//     with With as well, as has every attribute under a logger's WithGroup
//     of a sensitive name. A key is sensitive when it, or its last words,
//     is one of the sensitive names (password, secret, token, api_key,
//     authorization, cookie, ... see [BuiltinRedactKeys], and the keys in
//     [Config.Redact]), ignoring case, '_' and '-'; words are split at any
//     byte other than a letter or a digit and at a change of case. So
//     "client_secret", "dbPassword", "X-Api-Key" and "githubAPIToken" are
//     sensitive, while "password_hint" and "tokens_used", whose last word
//     names something else, are not. A value logged as one attribute is
//     searched too: a sensitive key of a map with string keys (an
//     http.Header, a map[string]any), a sensitive field of a struct (by
//     its Go or its json name), in the maps, structs, pointers and lists
//     it holds to 8 levels (a value deeper than that is written as
//     "[REDACTED]" whole); such a value is then written as a redacted copy,
//     a map[string]any (a struct with the exported fields the JSON handler
//     writes, under their json names) or a []any. A type with a
//     MarshalJSON, MarshalText or Error method writes itself and is not
//     searched; one with a Redacted method (*url.URL, whose password it
//     hides) is written as that method writes it;
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
