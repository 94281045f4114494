package discovery_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
	"github.com/titanframework/titan/modules/logger"
)

// A HealthSource that panics (a bug in the app's own health check) does
// not take the process down from the heartbeat: the panic is logged once,
// with its stack, and the registry says the instance is unhealthy until
// the source answers again.
func TestPanickingHealthSource(t *testing.T) {
	t.Parallel()
	reg := memory.New(time.Minute)
	var calls atomic.Int32
	var panicking atomic.Bool
	var logs testsrv.LogBuffer
	app := titan.New(settings("netron.listen=tcp://127.0.0.1:0"), shared(reg), titan.WithLogger(logger.WithWriter(&logs)),
		titan.Decorate(func(discovery.HealthSource) discovery.HealthSource {
			return func(context.Context) discovery.Health {
				calls.Add(1)
				if panicking.Load() {
					panic("health check bug")
				}
				return discovery.Healthy
			}
		}),
		titan.Service("calc", "1.0.0", func() *Calc { return &Calc{} }))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer stop(t, app)
	health := func() discovery.Health {
		ins, err := reg.Discover(context.Background(), discovery.Query{Service: "calc", AnyHealth: true})
		if err != nil || len(ins) != 1 {
			t.Fatalf("Discover = %v, %v; want the one instance", ins, err)
		}
		return ins[0].Health
	}
	if h := health(); h != discovery.Healthy {
		t.Fatalf("registered %s, want healthy", h)
	}
	panicking.Store(true)
	waitFor(t, func() bool { return health() == discovery.Unhealthy })
	n := calls.Load()
	waitFor(t, func() bool { return calls.Load() >= n+3 }) // three more heartbeats, each panicking
	if h := health(); h != discovery.Unhealthy {
		t.Fatalf("with the health source panicking the registry says %s, want unhealthy", h)
	}
	if got := strings.Count(logs.String(), "health check bug"); got != 1 {
		t.Fatalf("the panic was logged %d times, want once:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "healthpanic_test.go") {
		t.Fatalf("the panic was logged without its stack:\n%s", logs.String())
	}
	panicking.Store(false)
	waitFor(t, func() bool { return health() == discovery.Healthy })
}
