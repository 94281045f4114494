package logger

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
)

// Output formats accepted by [Config.Format] and [Sink.Format].
const (
	FormatAuto = "auto" // text, coloured when the sink is a terminal
	FormatText = "text" // plain text (slog.TextHandler), never coloured
	FormatJSON = "json" // one JSON object per line (slog.JSONHandler)
)

// Sink types accepted by [Sink.Type].
const (
	SinkStdout = "stdout"
	SinkStderr = "stderr"
	SinkFile   = "file"
)

// Config is the `logger` section of the Titan configuration.
//
// The zero Config is valid and means the same as [DefaultConfig]: level
// info, format auto, one stderr sink, only the built-in redaction keys.
type Config struct {
	// Level is the minimum level of modules that have no entry in Levels,
	// and of the root logger, read ignoring case. Empty means "info".
	Level string `json:"level" config:"lowercase" jsonschema:"enum=debug,enum=info,enum=warn,enum=error,default=info,description=Minimum level of modules without an entry in levels"`
	// Format is the default output format of the sinks: "auto" (text;
	// coloured on a terminal), "text" or "json". Empty means "auto".
	Format string `json:"format" jsonschema:"enum=auto,enum=text,enum=json,default=auto,description=Output format: auto (text; coloured on a terminal) or text or json"`
	// Levels maps a module name to its minimum level (debug, info, warn
	// or error, read ignoring case), overriding Level for that module.
	// A module without an entry spelled as its name takes the entry whose
	// name matches it ignoring case, '_' and '-' (the first in sorted
	// order), so that TITAN_LOGGER__LEVELS__BILLING_API=debug, whose name
	// cannot spell "Billing-API", sets the level of that module.
	Levels map[string]string `json:"levels,omitempty" config:"lowercase" jsonschema:"description=Minimum level per module name (debug/info/warn/error)"`
	// Sinks lists where records are written. Empty means one stderr sink.
	Sinks []Sink `json:"sinks,omitempty" jsonschema:"description=Outputs; default one stderr sink"`
	// Redact lists attribute keys whose values are replaced by
	// "[REDACTED]", in addition to the built-in list. Matching ignores
	// case, '_' and '-', and a key ending in one of them is redacted too
	// ("ssn" hides "user_ssn" and "userSSN"; see the package doc).
	Redact []string `json:"redact,omitempty" jsonschema:"description=Extra attribute keys to redact in addition to the built-in list"`
	// AddSource adds the source file and line of the log call to records.
	AddSource bool `json:"addSource,omitempty" jsonschema:"description=Add source file and line to records"`
}

// Sink is one output of the [Logger].
type Sink struct {
	// Type is "stdout", "stderr" or "file".
	Type string `json:"type" jsonschema:"enum=stdout,enum=stderr,enum=file,description=Where records go"`
	// Path is the file of a "file" sink. The file is opened for appending
	// and created with mode 0o644; missing parent directories are created.
	Path string `json:"path,omitempty" jsonschema:"description=File path of a file sink"`
	// Format overrides Config.Format for this sink.
	Format string `json:"format,omitempty" jsonschema:"enum=auto,enum=text,enum=json,description=Output format of this sink; default config format"`
	// Level is the minimum level of this sink, checked after the module
	// levels. Empty means the sink takes every record the module levels
	// let through. It is read ignoring case.
	Level string `json:"level,omitempty" config:"lowercase" jsonschema:"enum=debug,enum=info,enum=warn,enum=error,description=Minimum level of this sink"`
}

// DefaultConfig returns the configuration used when none is given: level
// info, format auto, one stderr sink.
func DefaultConfig() Config {
	return Config{
		Level:  "info",
		Format: FormatAuto,
		Sinks:  []Sink{{Type: SinkStderr}},
	}
}

// FieldError reports one invalid field of a [Config]. Field is the dotted
// path of the field, such as "logger.levels.netron" or
// "logger.sinks[1].path".
type FieldError struct {
	Field string
	Err   error
}

// Error returns "<field>: <reason>".
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *FieldError) Unwrap() error { return e.Err }

// plan is a validated Config.
type plan struct {
	level     slog.Level
	levels    map[string]slog.Level
	folded    map[string]slog.Level // levels by normalizeKey of the module
	sinks     []sinkPlan
	redact    []string
	addSource bool
}

// sinkPlan is a validated Sink.
type sinkPlan struct {
	field    string // "logger.sinks[i]", for error messages
	kind     string
	path     string
	format   string
	level    slog.Level
	hasLevel bool
}

// compile validates cfg and reports every invalid field at once.
func compile(cfg Config) (plan, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Err: fmt.Errorf(format, args...)})
	}

	p := plan{level: slog.LevelInfo, addSource: cfg.AddSource}
	if cfg.Level != "" {
		lvl, err := ParseLevel(cfg.Level)
		if err != nil {
			errs = append(errs, &FieldError{Field: "logger.level", Err: err})
		}
		p.level = lvl
	}

	format, ok := checkFormat(cfg.Format, FormatAuto)
	if !ok {
		bad("logger.format", "unknown format %q (want auto, text or json)", cfg.Format)
	}

	p.levels = make(map[string]slog.Level, len(cfg.Levels))
	p.folded = make(map[string]slog.Level, len(cfg.Levels))
	for _, module := range slices.Sorted(maps.Keys(cfg.Levels)) {
		field := "logger.levels." + module
		if module == "" {
			bad("logger.levels", "empty module name")
			continue
		}
		lvl, err := ParseLevel(cfg.Levels[module])
		if err != nil {
			errs = append(errs, &FieldError{Field: field, Err: err})
			continue
		}
		p.levels[module] = lvl
		if _, dup := p.folded[normalizeKey(module)]; !dup {
			p.folded[normalizeKey(module)] = lvl
		}
	}

	sinks := cfg.Sinks
	if len(sinks) == 0 {
		sinks = []Sink{{Type: SinkStderr}}
	}
	for i, s := range sinks {
		field := fmt.Sprintf("logger.sinks[%d]", i)
		sp := sinkPlan{field: field, kind: s.Type, path: s.Path}
		switch s.Type {
		case SinkStdout, SinkStderr:
			if s.Path != "" {
				bad(field+".path", "only a file sink has a path")
			}
		case SinkFile:
			if s.Path == "" {
				bad(field+".path", "required for a file sink")
			}
		case "":
			bad(field+".type", "required (want stdout, stderr or file)")
		default:
			bad(field+".type", "unknown sink type %q (want stdout, stderr or file)", s.Type)
		}
		if sp.format, ok = checkFormat(s.Format, format); !ok {
			bad(field+".format", "unknown format %q (want auto, text or json)", s.Format)
		}
		if s.Level != "" {
			lvl, err := ParseLevel(s.Level)
			if err != nil {
				errs = append(errs, &FieldError{Field: field + ".level", Err: err})
			}
			sp.level, sp.hasLevel = lvl, true
		}
		p.sinks = append(p.sinks, sp)
	}

	for i, key := range cfg.Redact {
		if normalizeKey(key) == "" {
			bad(fmt.Sprintf("logger.redact[%d]", i), "empty key")
			continue
		}
		p.redact = append(p.redact, key)
	}

	if len(errs) > 0 {
		return plan{}, errors.Join(errs...)
	}
	return p, nil
}

// checkFormat returns the effective format: def when format is empty.
func checkFormat(format, def string) (string, bool) {
	switch format {
	case "":
		return def, true
	case FormatAuto, FormatText, FormatJSON:
		return format, true
	}
	return "", false
}

// moduleLevel returns the minimum level of module under p: its entry in
// Levels, or else the first (in sorted order) whose name matches it
// ignoring case, '_' and '-', or else Level.
func (p *plan) moduleLevel(module string) slog.Level {
	if module != "" {
		if lvl, ok := p.levels[module]; ok {
			return lvl
		}
		if lvl, ok := p.folded[normalizeKey(module)]; ok {
			return lvl
		}
	}
	return p.level
}
