package discovery_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
)

// Calc2 is a second service.
type Calc2 struct{}

func (*Calc2) Who(context.Context) (string, error) { return "2", nil }

// secondRefused is a registry that refuses the second registration.
type secondRefused struct {
	*memory.Registry
	calls atomic.Int32
}

func (r *secondRefused) Register(ctx context.Context, in discovery.Instance) error {
	if r.calls.Add(1) == 2 {
		return errors.New("refused")
	}
	return r.Registry.Register(ctx, in)
}

// An app whose start fails while it registers its services (the registry
// refuses one) leaves none of them registered: fx does not run the stop
// hook of a start hook that failed, and the listeners the entries name
// are closed as the start is undone.
func TestFailedRegistrationLeavesNoEntry(t *testing.T) {
	t.Parallel()
	reg := &secondRefused{Registry: memory.New(time.Minute)}
	app := titan.New(settings("netron.listen=tcp://127.0.0.1:0"), shared(reg),
		titan.Service("calc", "1.0.0", func() *Calc { return &Calc{} }),
		titan.Service("calc2", "1.0.0", func() *Calc2 { return &Calc2{} }))
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("the start succeeded although the registry refused a registration")
	}
	t.Logf("start: %v", err)
	for _, s := range []string{"calc", "calc2"} {
		if ins, _ := reg.Discover(context.Background(), discovery.Query{Service: s, AnyHealth: true}); len(ins) != 0 {
			t.Errorf("%s still registered after the failed start: %+v", s, ins)
		}
	}
}
