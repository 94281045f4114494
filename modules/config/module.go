package config

import (
	"go.uber.org/fx"
)

// Params are what the configuration needs from the app.
type Params struct {
	fx.In

	Options Options `optional:"true"`
	Specs   []Spec  `group:"titan.config.sections"`
}

// New loads the configuration for an fx app.
func New(p Params) (*Config, error) { return Load(p.Options, p.Specs...) }

// Module provides *Config and watches its files while the app runs.
var Module = fx.Module("titan.config",
	fx.Provide(New),
	fx.Invoke(func(lc fx.Lifecycle, c *Config) {
		lc.Append(fx.Hook{OnStart: c.Start, OnStop: c.Stop})
	}),
)
