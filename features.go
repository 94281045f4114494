package titan

import (
	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	"github.com/titanframework/titan/modules/netron/validate"
)

// builtinFeatures are the interceptors every app's Netron has, innermost,
// after the app's own: the response cache (netron.cacheSize results; it
// serves the methods declared with Cache or CacheTTL), then contract
// validation (unless netron.skipValidation), so that a cached result was
// validated when it was made.
func builtinFeatures(c *config.Config, lg *logger.Logger, lc fx.Lifecycle) (netron.Innermost, error) {
	cfg, err := config.Section[netron.Config](c, "netron")
	if err != nil {
		return nil, err
	}
	rc := cache.New(cfg.CacheSize)
	lc.Append(fx.StopHook(rc.Close))
	ics := netron.Innermost{rc}
	if !cfg.SkipValidation {
		ics = append(ics, validate.New(lg.For("netron")))
	}
	return ics, nil
}
