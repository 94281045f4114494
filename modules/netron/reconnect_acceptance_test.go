package netron_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// slowCounter counts the slow calls that reached the server.
func slowCounter(started *atomic.Int64) netron.Option {
	return netron.WithInterceptors(netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			if !call.IsClient() && call.Method == "slow" {
				started.Add(1)
			}
			return next(ctx, call)
		}
	}))
}

// startAt starts a server serving calculator@1.0.0 at addr.
func startAt(t *testing.T, addr string, opts ...netron.Option) (*netron.Netron, string) {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	bound, err := n.Listen(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	return n, bound
}

// Criterion 5: killing the server fails in-flight calls with unavailable
// within 100 ms; a server restarted on the same address gets the client
// back within 2 s, with its event subscription and bound client working.
func TestAcceptanceKillAndReconnect(t *testing.T) {
	var started atomic.Int64
	first, addr := startAt(t, "tcp://127.0.0.1:0", slowCounter(&started))
	p := dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	events := make(chan string, 16)
	unsub, err := p.Subscribe(ctx, "news", func(_ context.Context, e netron.Event) {
		var s string
		_ = e.Decode(&s)
		events <- s
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	var calc CalcClient
	if err := p.Bind(ctx, "calculator@^1", &calc); err != nil {
		t.Fatal(err)
	}
	if v, err := calc.Add(ctx, 1, 2); err != nil || v != 3 {
		t.Fatalf("Add before the kill = %v, %v", v, err)
	}
	if err := first.Emit(ctx, "news", "from the first server"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-events:
		if got != "from the first server" {
			t.Fatalf("event %q", got)
		}
	case <-ctx.Done():
		t.Fatal("no event from the first server")
	}

	// In-flight slow calls.
	const inflight = 5
	type result struct {
		err error
		at  time.Time
	}
	results := make(chan result, inflight)
	for range inflight {
		go func() {
			_, err := p.Call(ctx, "calculator@1.0.0", "slow", "10s")
			results <- result{err, time.Now()}
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); started.Load() < inflight; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d slow calls reached the server", started.Load())
		}
		time.Sleep(time.Millisecond)
	}

	// Kill: stop without draining.
	killCtx, kill := context.WithCancel(context.Background())
	kill()
	killed := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- first.Stop(killCtx) }()
	var slowest time.Duration
	for range inflight {
		select {
		case r := <-results:
			slowest = max(slowest, r.at.Sub(killed))
			if netron.CodeOf(r.err) != netron.CodeUnavailable {
				t.Errorf("in-flight call: %v, want unavailable", r.err)
			}
			if d := r.at.Sub(killed); d > 100*time.Millisecond {
				t.Errorf("in-flight call failed %v after the kill, want within 100ms", d)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("an in-flight call is still waiting 2s after the kill")
		}
	}
	t.Logf("in-flight calls failed at most %v after the kill", slowest)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return")
	}
	if _, err := calc.Add(ctx, 1, 1); netron.CodeOf(err) != netron.CodeUnavailable {
		t.Fatalf("call while the server is down: %v, want unavailable", err)
	}

	// Restart on the same address.
	second, again := startAt(t, addr)
	if again != addr {
		t.Fatalf("restarted on %s, want %s", again, addr)
	}
	restarted := time.Now()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 500*time.Millisecond)
		v, err := calc.Add(cctx, 2, 3)
		ccancel()
		if err == nil {
			if v != 5 {
				t.Fatalf("Add after the restart = %v", v)
			}
			break
		}
		if time.Since(restarted) > 2*time.Second {
			t.Fatalf("no reconnect 2s after the restart: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("reconnected %v after the restart", time.Since(restarted))

	// The subscription was restored: events of the new server arrive.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for got := ""; got != "from the second server"; {
		if err := second.Emit(ctx, "news", "from the second server"); err != nil {
			t.Fatal(err)
		}
		select {
		case got = <-events:
		case <-tick.C:
			if time.Since(restarted) > 2*time.Second {
				t.Fatal("no event from the second server 2s after the restart")
			}
		}
	}
	t.Logf("subscription restored %v after the restart", time.Since(restarted))
	// The bound client works, and the range target resolved anew.
	for i := range 10 {
		if v, err := calc.Add(ctx, float64(i), 1); err != nil || v != float64(i+1) {
			t.Fatalf("Add after the restart = %v, %v", v, err)
		}
	}
	n := 0
	for v, err := range calc.Count(ctx, 3) {
		if err != nil || v != n {
			t.Fatalf("Count after the restart: item %d = %v, %v", n, v, err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("Count after the restart gave %d items, want 3", n)
	}
}

// TestReconnectResolvesAgain: after a reconnect the targets the peer had
// resolved are resolved again before any call needs them.
func TestReconnectResolvesAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first := startServer(t, "tcp")
	client, err := netron.New(netron.Config{Reconnect: netron.ReconnectConfig{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	p, err := client.Dial(ctx, first.addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := netron.CallUnary[float64](ctx, p, "calculator@^1", "add", 1, 1); err != nil {
		t.Fatal(err)
	}
	first.n.Stop(ctx)
	second, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop(ctx)
	if err := second.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	var listenErr error
	for i := 0; i < 100; i++ {
		if _, listenErr = second.Listen(ctx, first.addr); listenErr == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if listenErr != nil {
		t.Fatal(listenErr)
	}
	// The old id may still be held until the client notices the drop; wait
	// for the new server's.
	want := second.Describe()[0].ID
	deadline := time.Now().Add(3 * time.Second)
	for netron.ResolvedTarget(p, "calculator@^1") != want {
		if time.Now().After(deadline) {
			t.Fatalf("calculator@^1 resolved to %q, not the new server's %s, 3s after its return",
				netron.ResolvedTarget(p, "calculator@^1"), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
