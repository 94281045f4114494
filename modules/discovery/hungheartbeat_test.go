package discovery_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
)

// hungAfterStart is a registry that stops answering once the app has
// registered, as a backend that hangs does: a heartbeat waits until its
// context ends, and says how it ended.
type hungAfterStart struct {
	*memory.Registry
	registered atomic.Bool
	hung       chan struct{} // closed when a heartbeat hangs
	hangOnce   sync.Once
	ended      chan error
}

func (h *hungAfterStart) Register(ctx context.Context, in discovery.Instance) error {
	if h.registered.CompareAndSwap(false, true) {
		return h.Registry.Register(ctx, in)
	}
	h.hangOnce.Do(func() { close(h.hung) })
	<-ctx.Done()
	select {
	case h.ended <- context.Cause(ctx):
	default:
	}
	return ctx.Err()
}

// A stop that comes while a heartbeat waits for a registry that hangs
// ends the heartbeat at once: the stop is not held until the heartbeat's
// own deadline (a whole discovery.heartbeat, which may be longer than the
// app's stop timeout).
func TestStopEndsAHungHeartbeat(t *testing.T) {
	t.Parallel()
	reg := &hungAfterStart{Registry: memory.New(time.Minute), hung: make(chan struct{}), ended: make(chan error, 1)}
	app := titan.New(settings("netron.listen=tcp://127.0.0.1:0", "discovery.heartbeat=500ms", "discovery.ttl=1m"), shared(reg),
		titan.Service("calc", "1.0.0", func() *Calc { return &Calc{} }))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-reg.hung // the first heartbeat, 500 ms after the start
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := app.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case err := <-reg.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the hung heartbeat ended with %v, not cancelled by the stop", err)
		}
	default:
		t.Fatal("the stop returned while the hung heartbeat still waited")
	}
}
