package titan_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
)

// lookedUp is a registry that closes asked the first time it is asked for
// service, before answering: the moment a client has looked for it.
type lookedUp struct {
	discovery.Registry
	service string
	once    sync.Once
	asked   chan struct{}
}

func (r *lookedUp) Discover(ctx context.Context, q discovery.Query) ([]discovery.Instance, error) {
	ins, err := r.Registry.Discover(ctx, q)
	if q.Service == r.service {
		r.once.Do(func() { close(r.asked) })
	}
	return ins, err
}

// Two apps started together, the client first: its remote, which the
// shared registry does not show when the client looks for it, is waited
// for while the client starts (instead of failing start-up with not
// found), and the first call right after the start is answered.
func TestRemoteStartedTogetherWithItsService(t *testing.T) {
	t.Parallel()
	reg := memory.New(time.Minute)
	watched := &lookedUp{Registry: reg, service: "calculator", asked: make(chan struct{})}
	var calc CalculatorClient
	client := titan.New(titan.WithConfig(quiet("logger.level=error")),
		titan.Decorate(func(discovery.Registry) discovery.Registry { return watched }),
		titan.Remote[CalculatorClient]("calculator@^1"),
		titan.Invoke(func(c CalculatorClient) { calc = c }))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	started := make(chan error, 1)
	go func() { started <- client.Start(ctx) }()

	select { // the client looked for the service, which nobody serves yet
	case <-watched.asked:
	case err := <-started:
		t.Fatalf("the client started (%v) without looking for its remote", err)
	case <-ctx.Done():
		t.Fatal("the client did not look for its remote in 15s")
	}
	startApp(t, titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0", "logger.level=error")),
		titan.Decorate(func(discovery.Registry) discovery.Registry { return reg }),
		titan.Service("calculator", "1.0.0", NewCalculator))
	if err := <-started; err != nil {
		t.Fatalf("the client, started with its remote's service: %v", err)
	}
	t.Cleanup(func() {
		if err := client.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if v, err := calc.Add(context.Background(), 2, 3); err != nil || v != 5 {
		t.Fatalf("the first call right after the start: %v, %v", v, err)
	}
}
