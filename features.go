package titan

import (
	"go.uber.org/fx"

	"github.com/titanframework/titan/internal/clock"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	"github.com/titanframework/titan/modules/netron/validate"
)

// builtinFeatures are the interceptors every app's Netron has, innermost,
// after the app's own: the response cache (netron.cacheSize results in
// netron.cacheBytes; it serves the methods declared with Cache or
// CacheTTL), then contract validation (unless netron.skipValidation), so
// that a cached result was validated when it was made. The cache reads the
// clock of WithClock when the app has one.
func builtinFeatures(p featureParams) (netron.Innermost, error) {
	cfg, err := config.Section[netron.Config](p.Config, "netron")
	if err != nil {
		return nil, err
	}
	rc := cache.New(cfg.CacheSize, cache.WithMaxBytes(cfg.CacheBytes), cache.WithClock(p.Now)) // nil: the system clock
	p.Lifecycle.Append(fx.StopHook(rc.Close))
	ics := netron.Innermost{rc}
	if !cfg.SkipValidation {
		ics = append(ics, validate.New(p.Logger.For("netron")))
	}
	return ics, nil
}

// featureParams are what builtinFeatures is built from.
type featureParams struct {
	fx.In
	Config    *config.Config
	Logger    *logger.Logger
	Lifecycle fx.Lifecycle
	Now       clock.Now `optional:"true"`
}
