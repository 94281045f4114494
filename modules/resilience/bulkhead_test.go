package resilience_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// A bulkhead of 4 lets 4 calls be in flight and refuses the 5th at once,
// without sending it, naming itself and its size; once the 4 are answered
// calls go through again.
func TestBulkheadRefusesTheFifth(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	p := dial(t, addr, resilience.Bulkhead(resilience.BulkheadConfig{Name: "flaky", Max: 4}))

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := get(p, "wait")
			errs <- err
		})
	}
	eventually(t, "4 calls in flight on the server", func() bool { return f.inflight.Load() == 4 })

	start := time.Now()
	_, err := get(p, "wait")
	if netron.CodeOf(err) != netron.CodeResourceExhausted || !errors.Is(err, resilience.ErrBulkheadFull) || errors.Is(err, netron.ErrNotRun) {
		t.Fatalf("the 5th call: %v (code %v), want resource_exhausted matching ErrBulkheadFull, not ErrNotRun", err, netron.CodeOf(err))
	}
	if want := `resource_exhausted: bulkhead "flaky" is full (4 calls in flight): flaky@^1.wait not sent`; err.Error() != want {
		t.Fatalf("message %q\nwant %q", err, want)
	}
	if took := time.Since(start); took > 50*time.Millisecond || f.calls.Load() != 4 {
		t.Fatalf("the 5th call took %v; the server saw %d calls, want 4", took, f.calls.Load())
	}
	if v, err := get(p, "get", "k"); !errors.Is(err, resilience.ErrBulkheadFull) {
		t.Fatalf("another method while full: %q, %v; the bulkhead is the peer's", v, err)
	}

	close(f.hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("one of the 4: %v", err)
		}
	}
	if _, err := get(p, "get", "k"); err != nil {
		t.Fatalf("after the 4 were answered: %v", err)
	}
}

// With MaxWait a call that finds the bulkhead full waits for a place: it
// goes through when one frees in time, and is refused when none does.
func TestBulkheadWait(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	p := dial(t, addr, resilience.Bulkhead(resilience.BulkheadConfig{Name: "one", Max: 1, MaxWait: 150 * time.Millisecond}))

	done := make(chan error, 1)
	go func() {
		_, err := get(p, "wait")
		done <- err
	}()
	eventually(t, "1 call in flight", func() bool { return f.inflight.Load() == 1 })
	start := time.Now()
	_, err := get(p, "get", "k")
	if took := time.Since(start); !errors.Is(err, resilience.ErrBulkheadFull) || took < 140*time.Millisecond {
		t.Fatalf("a call that found no place for 150ms: %v after %v", err, took)
	}
	if want := `bulkhead "one" is full (1 calls in flight) and stayed full for 150ms: flaky@^1.get not sent`; err.(*netron.Error).Message() != want {
		t.Fatalf("message %q\nwant %q", err.(*netron.Error).Message(), want)
	}

	time.AfterFunc(50*time.Millisecond, func() { close(f.hold) })
	if v, err := get(p, "get", "k"); err != nil || v != "flaky:k" {
		t.Fatalf("a call whose place freed while it waited: %q, %v", v, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A stream holds its place until it ends.
func TestBulkheadStream(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	p := dial(t, addr, resilience.Bulkhead(resilience.BulkheadConfig{Max: 1}))
	ctx := context.Background()
	s, err := p.OpenStream(ctx, "flaky@^1", "count", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(p, "get", "k"); !errors.Is(err, resilience.ErrBulkheadFull) {
		t.Fatalf("a call while a stream is open: %v, want refused", err)
	}
	_ = s.Close()
	if _, err := get(p, "get", "k"); err != nil {
		t.Fatalf("a call after the stream ended: %v", err)
	}
	n := 0
	for _, err := range netron.CallStream[int](ctx, p, "flaky@^1", "count", 3) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if _, err := get(p, "get", "k"); err != nil || n != 3 {
		t.Fatalf("after a stream read to its end (%d items): %v", n, err)
	}
}

// A call or stream opening that panics below a bulkhead gives its place
// back: the next call finds the bulkhead of 1 free.
func TestBulkheadGivesBackThePlaceOfAPanic(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	for _, tc := range callKinds {
		t.Run(tc.name, func(t *testing.T) {
			var below panicking
			p := dial(t, addr, resilience.Bulkhead(resilience.BulkheadConfig{Max: 1}), &below)
			below.on.Store(true)
			recovered(t, func() { _ = tc.call(p) })
			below.on.Store(false)
			if err := tc.call(p); err != nil {
				t.Fatalf("the next call: %v, want the place of the one that panicked free", err)
			}
		})
	}
}

// A call that a timeout above a bulkhead ends while it waits for a place
// fails naming the bulkhead that held it, not as if the remote had not
// answered in time: it was never sent.
func TestBulkheadWaitEndedByATimeout(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	ps := resilience.Policies{
		Timeout:  100 * time.Millisecond,
		Bulkhead: &resilience.BulkheadConfig{Max: 1, MaxWait: time.Minute},
		Methods:  map[string]resilience.Policies{"wait": {Timeout: -1}}, // it holds the place
	}
	p := dial(t, addr, ps.Interceptors("flaky@^1", resilience.ChainOptions{})...)
	done := make(chan error, 1)
	go func() { _, err := get(p, "wait"); done <- err }()
	eventually(t, "1 call in flight", func() bool { return f.inflight.Load() == 1 })

	for _, tc := range []struct {
		method string
		call   func() error
	}{
		{"get", func() error { _, err := get(p, "get", "k"); return err }},
		{"count", func() error { return openStream(context.Background(), p) }},
	} {
		err := tc.call()
		want := "deadline_exceeded: flaky@^1." + tc.method + `: no answer within its timeout of 100ms: it was waiting for a place in bulkhead "flaky@^1" (1 calls in flight)`
		if err == nil || err.Error() != want {
			t.Errorf("%s held by the bulkhead until its timeout: %v\nwant %s", tc.method, err, want)
		}
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("the server saw %d calls, want 1 (the one holding the place)", n)
	}
	close(f.hold)
	if err := <-done; err != nil {
		t.Fatalf("the call holding the place: %v", err)
	}
}
