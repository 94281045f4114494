package logger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
)

// OptionGroup is the fx value group of extra [Option]s for the app's Logger
// (titan.WithLogger fills it).
const OptionGroup = "titan.logger.options"

// Params are what the app's Logger is built from.
type Params struct {
	fx.In

	Config    *config.Config
	Lifecycle fx.Lifecycle
	Options   []Option `group:"titan.logger.options"`
}

// Result is what the logger module provides: the Logger itself and the root
// *slog.Logger that module-scoped decorations ([Decorate]) replace.
type Result struct {
	fx.Out

	Logger *Logger
	Slog   *slog.Logger
}

// NewFromConfig builds the app's Logger from the `logger` config section,
// follows that section on reload, and closes the Logger when the app stops.
func NewFromConfig(p Params) (Result, error) {
	cfg, err := config.Section[Config](p.Config, "logger")
	if err != nil {
		return Result{}, err
	}
	l, err := New(cfg, p.Options...)
	if err != nil {
		return Result{}, withSources(err, p.Config)
	}
	p.Config.SetLogger(l.For("config"))
	for _, w := range p.Config.Warnings() {
		l.For("config").Warn(w)
	}
	cancel := config.OnChange(p.Config, "logger", func(c Config) {
		if err := l.Apply(c); err != nil {
			l.For("config").Error("logger: new settings rejected, keeping the current ones", "error", withSources(err, p.Config))
		}
	})
	p.Lifecycle.Append(fx.StopHook(func(context.Context) error {
		cancel()
		return l.Close()
	}))
	return Result{Logger: l, Slog: l.Root()}, nil
}

// withSources adds to each [FieldError] of err where its value came from,
// as the configuration's own errors say it: "logger.sinks[0].path: required
// for a file sink (from titan.yaml:3)". A missing value is where what would
// hold it came from.
func withSources(err error, c *config.Config) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
		if fe, ok := e.(*FieldError); ok {
			out[i] = fmt.Errorf("%w (from %s)", fe, c.Source(configPath(fe.Field)))
		}
	}
	return errors.Join(out...)
}

// configPath writes a [FieldError.Field] as the configuration names keys:
// "logger.sinks[0].path" as "logger.sinks.0.path".
func configPath(field string) string {
	return strings.NewReplacer("[", ".", "]", "").Replace(field)
}

// Decorate gives the constructors of the enclosing fx.Module a *slog.Logger
// that carries module=name and follows logger.levels.<name>.
func Decorate(name string) fx.Option {
	return fx.Decorate(func(l *Logger) *slog.Logger { return l.For(name) })
}

// Module provides the app's *Logger and root *slog.Logger, and registers the
// `logger` configuration section.
var Module = fx.Module("titan.logger",
	config.AsSection("logger", DefaultConfig()),
	fx.Provide(NewFromConfig),
)
