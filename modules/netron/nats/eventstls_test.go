package nats_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
)

// TestEventsBridgeServerRequiresTLS: the events bridge of nats.events
// speaks to a NATS server that requires TLS with the Netron's client TLS
// configuration (netron.WithTLS, security.tls), as the gateway and a
// dialled nats:// address do.
func TestEventsBridgeServerRequiresTLS(t *testing.T) {
	t.Parallel()
	ns, pool := tlsServer(t)
	client := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	app := titan.New(
		titan.WithConfig(config.Options{NoDefaultFile: true, Environ: []string{}, NoWatch: true,
			Sets: []string{"nats.events=nats://" + ns.Addr().String(), "logger.level=error"}}),
		titan.Provide(fx.Annotate(func() netron.Option { return netron.WithTLS(nil, client) },
			fx.ResultTags(`group:"`+netron.OptionGroup+`"`))),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatalf("the events bridge could not connect over TLS: %v", err)
	}
	app.Stop(context.Background())
}
