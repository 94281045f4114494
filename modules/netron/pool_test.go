package netron_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	"github.com/titanframework/titan/modules/netron/validate"
)

// Keeper keeps the context of every call it serves.
type Keeper struct {
	mu   sync.Mutex
	ctxs []context.Context
}

func (k *Keeper) Keep(ctx context.Context, s string) (string, error) {
	k.mu.Lock()
	k.ctxs = append(k.ctxs, ctx)
	k.mu.Unlock()
	return s, nil
}

// Calls are pooled when no interceptor of the user's can see them; a
// method's context is not part of a pooled Call: one a method keeps stays
// its own call's (cancelled when the call ended, its peer still there).
func TestPooledCallsLeaveContextsAlone(t *testing.T) {
	k := &Keeper{}
	_, p := serveOnTCP(t, map[string]any{"keeper": k})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				want := fmt.Sprint(g, "/", i)
				if got, err := netron.CallUnary[string](ctx, p, "keeper@1.0.0", "keep", want); err != nil || got != want {
					t.Errorf("keep(%q) = %q, %v", want, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	seen := map[context.Context]bool{}
	for i, c := range k.ctxs {
		if seen[c] {
			t.Fatalf("context %d was handed to an earlier call too", i)
		}
		seen[c] = true
		// Cancelled when the call ends, which is just after its answer
		// is queued: the caller may be back first.
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("context %d is not cancelled after its call ended", i)
		}
		if netron.PeerFromContext(c) == nil {
			t.Fatalf("context %d lost its peer", i)
		}
	}
	if len(seen) != 200 {
		t.Fatalf("%d contexts kept, want 200", len(seen))
	}
}

// An interceptor may keep the *Call it was given: with one installed,
// Calls are not pooled and every kept Call still describes its own call.
func TestInterceptorsMayKeepCalls(t *testing.T) {
	var (
		mu     sync.Mutex
		served []*netron.Call
		made   []*netron.Call
	)
	keep := netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			res, err := next(ctx, call)
			mu.Lock()
			if call.IsClient() {
				made = append(made, call)
			} else {
				served = append(served, call)
			}
			mu.Unlock()
			return res, err
		}
	})
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(keep))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("keeper", "1.0.0", &Keeper{}); err != nil {
		t.Fatal(err)
	}
	bound, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	ctx := context.Background()
	p, err := n.Dial(ctx, bound) // the calls it makes pass the interceptor too
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := netron.CallUnary[string](ctx, p, "keeper@1.0.0", "keep", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	// A served call is kept after its answer is queued: the caller may be
	// back first.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(served)
		mu.Unlock()
		if n >= 100 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for name, calls := range map[string][]*netron.Call{"served": served, "made": made} {
		if len(calls) != 100 {
			t.Fatalf("%d %s calls kept, want 100", len(calls), name)
		}
		seen := map[*netron.Call]bool{}
		for i, c := range calls {
			if seen[c] || c.Service != "keeper@1.0.0" || c.Method != "keep" {
				t.Fatalf("%s call %d (%q.%q) was reused for another call", name, i, c.Service, c.Method)
			}
			seen[c] = true
		}
	}
	for i, c := range made { // a served Call's arguments alias its recycled frame
		if args := c.Args(); len(args) != 1 || args[0] != fmt.Sprint(i) {
			t.Fatalf("made call %d now has arguments %v", i, args)
		}
	}
}

// borrower is an interceptor that declares it keeps no Call.
type borrower struct{ netron.UnaryInterceptorFunc }

func (borrower) BorrowsCalls() {}

// Calls stay pooled while every interceptor borrows its Calls (validate
// and cache do); one that does not say so turns pooling off.
func TestBorrowingInterceptorsKeepPooling(t *testing.T) {
	pass := netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc { return next })
	for _, tc := range []struct {
		name string
		ics  []netron.Interceptor
		want bool
	}{
		{"none", nil, true},
		{"validate and cache", []netron.Interceptor{cache.New(0), validate.New(nil)}, true},
		{"a borrower of the user's", []netron.Interceptor{borrower{pass}, validate.New(nil)}, true},
		{"one that may keep Calls", []netron.Interceptor{borrower{pass}, pass, validate.New(nil)}, false},
	} {
		n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(tc.ics...))
		if err != nil {
			t.Fatal(err)
		}
		if got := netron.PoolsCalls(n); got != tc.want {
			t.Errorf("%s: pooled = %v, want %v", tc.name, got, tc.want)
		}
	}
}
