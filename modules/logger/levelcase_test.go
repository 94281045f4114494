package logger_test

import (
	"context"
	"log/slog"
	"testing"

	"go.uber.org/fx/fxtest"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
)

// A module is often a service, whose name may have upper-case letters and
// dashes ("Billing-API"); a variable's name cannot spell it, so
// TITAN_LOGGER__LEVELS__BILLING_API sets logger.levels.billing_api. The
// entry is the module's: module names in levels are matched ignoring case,
// '_' and '-', an entry spelled as the module is winning over one that is
// not.
func TestEnvLevelReachesAModuleWithUpperCase(t *testing.T) {
	c, err := config.Load(config.Options{NoDefaultFile: true, NoWatch: true, Environ: []string{
		"TITAN_LOGGER__LEVELS__BILLING_API=debug", "TITAN_LOGGER__LEVELS__INVOICES=error", "TITAN_LOGGER__LEVELS__Invoices=warn",
	}}, config.NewSpec("logger", logger.DefaultConfig()))
	if err != nil {
		t.Fatal(err)
	}
	lc := fxtest.NewLifecycle(t)
	res, err := logger.NewFromConfig(logger.Params{Config: c, Lifecycle: lc})
	if err != nil {
		t.Fatal(err)
	}
	lc.RequireStart()
	defer lc.RequireStop()
	ctx := context.Background()
	if !res.Logger.For("Billing-API").Enabled(ctx, slog.LevelDebug) {
		t.Errorf("TITAN_LOGGER__LEVELS__BILLING_API=debug: module Billing-API does not log at debug (levels %v)", c.Get("logger.levels"))
	}
	if l := res.Logger.For("Invoices"); !l.Enabled(ctx, slog.LevelWarn) || l.Enabled(ctx, slog.LevelInfo) {
		t.Errorf("module Invoices: want the level spelled as it is (warn) to win")
	}
	if res.Logger.For("billing").Enabled(ctx, slog.LevelDebug) {
		t.Errorf("module billing took billing_api's level")
	}
}
