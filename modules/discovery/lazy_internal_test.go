package discovery

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// listing is a Registry that lists one service.
type listing struct{ Registry }

func (listing) Services(context.Context) ([]string, error) { return []string{"users"}, nil }
func (listing) Close() error                               { return nil }

// An app whose registry did not answer at start (discovery.required:
// false) lists its services through it once it answers, as every backend
// in the tree does: the registry that stands in until then does not hide
// that the backend is a Lister.
func TestLazyRegistryLists(t *testing.T) {
	opened := false
	a := newAppRegistry(Config{Backend: "fake", Heartbeat: 1}, slog.New(slog.DiscardHandler))
	a.r = &lazy{open: func(context.Context) (Registry, error) {
		opened = true
		return listing{}, nil
	}, retry: 1, log: slog.New(slog.DiscardHandler), desc: "fake", err: errors.New("refused")}
	names, err := a.Services(context.Background())
	if err != nil || len(names) != 1 || names[0] != "users" {
		t.Fatalf("Services = %v, %v (backend opened: %v)", names, err, opened)
	}
}

// An attempt to open a backend that accepts and never answers ends at the
// lazy registry's open timeout, even for a caller without a deadline (a
// pool's watch), instead of holding every registry call, Close included,
// for as long as the backend stays silent.
func TestLazyOpenIsBounded(t *testing.T) {
	l := &lazy{open: func(ctx context.Context) (Registry, error) {
		<-ctx.Done() // a Consul agent that never answers
		return nil, ctx.Err()
	}, log: slog.New(slog.DiscardHandler), desc: "fake", err: errors.New("refused"), openTimeout: 50 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		_, err := l.Discover(context.Background(), Query{Service: "users"})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Discover while the backend is silent: %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Discover waited on the silent backend for good")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// closing is a Registry that says when it is closed.
type closing struct {
	Registry
	closed chan struct{}
}

func (closing) Discover(context.Context, Query) ([]Instance, error) { return nil, nil }
func (c closing) Close() error                                      { close(c.closed); return nil }

// A call that comes while another opens the backend waits for that
// attempt only as long as its own context allows, not the whole attempt
// (up to the open timeout); and a Close that comes meanwhile is not
// undone by the attempt that ends after it: what it opened is closed.
func TestLazyWaitersHonourTheirContext(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	opened := closing{closed: make(chan struct{})}
	l := &lazy{open: func(ctx context.Context) (Registry, error) {
		close(entered)
		<-release // a backend slow to answer
		return opened, nil
	}, log: slog.New(slog.DiscardHandler), desc: "fake", err: errors.New("refused"), openTimeout: time.Minute}
	first := make(chan error, 1)
	go func() {
		_, err := l.Discover(context.Background(), Query{Service: "users"})
		first <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	go func() {
		_, err := l.Discover(ctx, Query{Service: "users"})
		second <- err
	}()
	select {
	case err := <-second:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Discover with a 50ms context while the backend opens: %v, want a deadline error", err)
		}
	case <-time.After(2 * time.Second):
		t.Error("Discover with a 50ms context waited over 2s for another call's open of the backend")
	}
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(2 * time.Second):
		t.Error("Close waited over 2s for an open of the backend")
		close(release)
		<-closed
		release = nil
	}
	if release != nil {
		close(release)
	}
	if err := <-first; err == nil {
		t.Error("Discover whose open ended after Close: no error, want the registry closed")
	}
	select {
	case <-opened.closed:
	case <-time.After(2 * time.Second):
		t.Error("the backend opened after Close was left open")
	}
}

// A backend whose open panics panics in its caller as any call would,
// and leaves the registry usable: the lock is held again for get's
// deferred unlock (unlocking it unheld would end the process), and the
// next call opens again.
func TestLazyOpenThatPanics(t *testing.T) {
	calls := 0
	l := &lazy{open: func(context.Context) (Registry, error) {
		calls++
		if calls == 1 {
			panic("a backend's bug")
		}
		return listing{}, nil
	}, log: slog.New(slog.DiscardHandler), desc: "fake"}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("the open's panic did not reach the caller")
			}
		}()
		_, _ = l.get(context.Background())
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if r, err := l.get(ctx); err != nil || r == nil {
		t.Fatalf("get after an open that panicked: %v, %v; want the backend", r, err)
	}
}
