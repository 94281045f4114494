package logger

import (
	"context"
	"log/slog"

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
		return Result{}, err
	}
	p.Config.SetLogger(l.For("config"))
	for _, w := range p.Config.Warnings() {
		l.For("config").Warn(w)
	}
	cancel := config.OnChange(p.Config, "logger", func(c Config) {
		if err := l.Apply(c); err != nil {
			l.For("config").Error("logger: new settings rejected, keeping the current ones", "error", err)
		}
	})
	p.Lifecycle.Append(fx.StopHook(func(context.Context) error {
		cancel()
		return l.Close()
	}))
	return Result{Logger: l, Slog: l.Root()}, nil
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
