package netron

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// holdSubscribe is an EventAccess whose MaySubscribe, once held, reports
// its first call on entered (buffered: later ones are not reported) and
// waits for release.
type holdSubscribe struct {
	held             atomic.Bool
	entered, release chan struct{}
}

func (a *holdSubscribe) Identify(ctx context.Context, _ Credentials) (context.Context, error) {
	return ctx, nil
}
func (a *holdSubscribe) Visible(context.Context, *MethodSpec) bool { return true }
func (a *holdSubscribe) MaySubscribe(context.Context, string) error {
	if a.held.Load() {
		select {
		case a.entered <- struct{}{}:
		default:
		}
		<-a.release
	}
	return nil
}

// A connection lost while the restore of the reconnect before it runs
// leaves the targets it had not resolved again listed: the next reconnect
// resolves them.
func TestRestoreInterruptedResolvesOnNextReconnect(t *testing.T) {
	t.Parallel()
	acc := &holdSubscribe{entered: make(chan struct{}, 1), release: make(chan struct{})}
	n, addr := ServeForTest(t, Config{}, "tcp://127.0.0.1:0", map[string]any{"adder": adder{}}, WithAccess(acc))
	p := DialForTest(t, addr, Config{Reconnect: ReconnectConfig{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := p.Call(ctx, "adder", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	unsub, err := p.Subscribe(ctx, "news", func(context.Context, Event) {})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	acc.held.Store(true)
	for _, sp := range n.Peers() {
		_ = sp.Close()
	}
	// The restore on the new connection subscribes again; that
	// connection ends before it has resolved adder again.
	select {
	case <-acc.entered:
	case <-ctx.Done():
		t.Fatal("the peer did not subscribe again after reconnecting")
	}
	second := p.cur.Load()
	acc.held.Store(false)
	for _, sp := range n.Peers() {
		_ = sp.Close()
	}
	close(acc.release)
	waitUntil(t, "a third connection", func() bool {
		c := p.cur.Load()
		return c != nil && c != second && c.ctx.Err() == nil
	})
	waitUntil(t, "adder resolved again on the third connection", func() bool {
		_, ok := p.knownID("adder")
		return ok
	})
}

// A Subscribe made while the restore after a reconnect waits for the
// answer to a subscription gives up when its own context ends, instead
// of waiting for the restore (up to a RequestTimeout per topic).
func TestSubscribeDuringRestoreKeepsToItsContext(t *testing.T) {
	t.Parallel()
	acc := &holdSubscribe{entered: make(chan struct{}, 1), release: make(chan struct{})}
	n, addr := ServeForTest(t, Config{}, "tcp://127.0.0.1:0", nil, WithAccess(acc))
	p := DialForTest(t, addr, Config{RequestTimeout: time.Minute, Reconnect: ReconnectConfig{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	unsub, err := p.Subscribe(ctx, "news", func(context.Context, Event) {})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	acc.held.Store(true)
	defer close(acc.release)
	defer acc.held.Store(false)
	for _, sp := range n.Peers() {
		_ = sp.Close()
	}
	select {
	case <-acc.entered: // the restore waits for the server
	case <-ctx.Done():
		t.Fatal("the peer did not subscribe again after reconnecting")
	}
	sctx, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer scancel()
	res := make(chan error, 1)
	go func() {
		_, err := p.Subscribe(sctx, "other", func(context.Context, Event) {})
		res <- err
	}()
	select {
	case err := <-res:
		if !errors.Is(err, context.DeadlineExceeded) || CodeOf(err) != CodeDeadlineExceeded {
			t.Fatalf("Subscribe with a 100ms context during the restore: %v; want deadline_exceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe with a 100ms context still waits 5s later, for the restore's subscription")
	}
}
