package security_test

import (
	"context"
	"iter"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/security"
)

// counter serves a stream.
type counter struct{}

func (counter) Count(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

// panicOpening panics when a stream opens below it, while on is set.
type panicOpening struct{ on atomic.Bool }

func (*panicOpening) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc { return next }

func (*panicOpening) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}

func (p *panicOpening) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		if p.on.Load() {
			panic("opening a stream")
		}
		return next(ctx, call)
	}
}

// A stream whose opening panicked below the guard, the panic recovered
// further up (the engine ends such a call with an internal error), gives
// back its caller's place among the calls of
// security.auth.maxCallsPerSubject, as a unary call does.
func TestStreamOpeningThatPanickedGivesBackItsCallSlot(t *testing.T) {
	cfg := security.DefaultConfig()
	cfg.Auth.MaxCallsPerSubject = 1
	g, err := security.New(context.Background(), cfg, security.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	below := &panicOpening{}
	n, err := netron.New(netron.Config{}, nil, append(g.Options(), netron.WithInterceptors(g, below))...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := n.Stop(stop); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}()
	if err := n.Register("counter", "1.0.0", counter{}); err != nil {
		t.Fatal(err)
	}
	arg, err := protocol.Marshal(2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := security.WithIdentity(context.Background(), &security.Identity{Subject: "alice"})
	inv := &netron.Invocation{Service: "counter@^1", Method: "count", Args: []protocol.RawValue{arg}}

	below.on.Store(true)
	if _, err := n.InvokeStream(ctx, inv); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("a stream whose opening panicked: %v, want an internal error", err)
	}
	if got := g.SubjectsWithCalls(); got != 0 {
		t.Errorf("after a stream opening that panicked, the guard counts running calls for %d subject(s), want 0", got)
	}

	below.on.Store(false)
	seq, err := n.InvokeStream(ctx, inv)
	if err != nil {
		t.Fatalf("alice's next stream (maxCallsPerSubject 1, none running): %v", err)
	}
	items := 0
	for _, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		items++
	}
	if items != 2 {
		t.Fatalf("%d items, want 2", items)
	}
}

// A stream whose inner chain returns neither an iterator nor an error
// reaches the guard as the engine's refusal of that interceptor's bug
// (internal), not as a nil iterator that the guard's own would panic
// ranging over; the caller's place among the calls of
// security.auth.maxCallsPerSubject is given back.
func TestNilStreamFromInnerChain(t *testing.T) {
	cfg := security.DefaultConfig()
	cfg.Auth.MaxCallsPerSubject = 1
	g, err := security.New(context.Background(), cfg, security.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var logs testsrv.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	n, err := netron.New(netron.Config{}, log, append(g.Options(), netron.WithInterceptors(g, testsrv.NilStreams{}))...)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("counter", "1.0.0", counter{}); err != nil {
		t.Fatal(err)
	}
	arg, err := protocol.Marshal(2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := security.WithIdentity(context.Background(), &security.Identity{Subject: "alice"})
	inv := &netron.Invocation{Service: "counter@^1", Method: "count", Args: []protocol.RawValue{arg}}
	seq, err := n.InvokeStream(ctx, inv)
	if err == nil {
		for _, e := range seq {
			if e != nil {
				err = e
			}
		}
	}
	if netron.CodeOf(err) != netron.CodeInternal {
		t.Errorf("a stream whose inner chain returned (nil, nil): %v, want internal", err)
	}
	out := logs.String()
	if strings.Contains(out, "panicked") || !strings.Contains(out, "returned neither an iterator nor an error") {
		t.Errorf("log:\n%s\nwant the interceptor's nil iterator named, no panic", out)
	}
	if got := g.SubjectsWithCalls(); got != 0 {
		t.Errorf("the guard counts running calls for %d subject(s), want 0", got)
	}
}
