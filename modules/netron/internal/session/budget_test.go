package session

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Queues that share a Budget: while one whose peer reads nothing holds
// the whole budget, another still queues up to ReserveBytes without
// waiting, and waits past it; once the first is closed, what it held is
// given back and the second's sender goes on.
func TestBudgetIsShared(t *testing.T) {
	budget := NewBudget(1 << 20)
	hog, hogConn := newTestQueue(t, Limits{MaxBytes: 64 << 20}, budget)
	if err := hog.SendRaw(make([]byte, 2<<20)); err != nil {
		t.Fatal(err)
	}
	<-hogConn.entered // the writer holds it, stalled
	if budget.Queued() <= 1<<20 {
		t.Fatalf("the budget holds %d bytes; want it spent", budget.Queued())
	}
	other, _ := newTestQueue(t, Limits{MaxBytes: 64 << 20}, budget)
	small := make(chan error, 1)
	go func() { small <- other.SendRaw(make([]byte, ReserveBytes/4)) }()
	select {
	case err := <-small:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a queue under its reserve waited for a budget another queue spent")
	}
	// A queue past its reserve, its writer stalled, waits.
	third, thirdConn := newTestQueue(t, Limits{MaxBytes: 64 << 20}, budget)
	if err := third.SendRaw(make([]byte, ReserveBytes*2)); err != nil {
		t.Fatal(err)
	}
	<-thirdConn.entered
	big := make(chan error, 1)
	go func() { big <- third.SendRaw(make([]byte, 1024)) }()
	select {
	case err := <-big:
		t.Fatalf("a queue past its reserve did not wait while the budget was spent (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	// The hog's connection ends: its writer's write fails, and what it
	// held goes back to the budget (the third queue is still stalled).
	hog.Close(errEnded)
	hogConn.Close()
	select {
	case err := <-big:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting sender was not let go once the budget had room")
	}
}

// A queue whose senders wait for room while nothing is written for the
// stall timeout reports the stall, once, with what waited.
func TestStallIsReported(t *testing.T) {
	sc := &stallConn{gate: make(chan struct{}), entered: make(chan struct{}), closed: make(chan struct{})}
	var stalls atomic.Int32
	var queued atomic.Int64
	var q *Queue
	q = NewQueue(sc, Limits{MaxBytes: ReserveBytes, MaxFrameSize: 16 << 20, StallTimeout: 100 * time.Millisecond}, NewBudget(1<<30),
		func(waited time.Duration, n int64) {
			stalls.Add(1)
			queued.Store(n)
			q.Close(errors.New("stalled"))
		})
	done := make(chan struct{})
	go func() { defer close(done); q.Run(func(err error) { q.Close(err) }) }()
	defer func() { q.Close(errEnded); sc.Close(); <-done }()
	_ = q.SendRaw(make([]byte, ReserveBytes))
	<-sc.entered // the writer holds it and writes nothing more
	start := time.Now()
	err := q.SendRaw(make([]byte, 10)) // waits, then fails when the stall closes the queue
	if err == nil || err.Error() != "stalled" {
		t.Fatalf("the waiting sender got %v; want the queue's error", err)
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Fatalf("the stall was reported after %v; want the stall timeout first", took)
	}
	if stalls.Load() != 1 || queued.Load() < ReserveBytes {
		t.Fatalf("stall reported %d times with %d bytes queued", stalls.Load(), queued.Load())
	}
}

// A Flush that waits for what is queued while nothing is written for the
// stall timeout reports the stall too, though too little is queued for
// senders to wait: else a graceful stop waits forever on a peer that
// reads nothing.
func TestStallIsReportedToFlush(t *testing.T) {
	sc := &stallConn{gate: make(chan struct{}), entered: make(chan struct{}), closed: make(chan struct{})}
	var stalls atomic.Int32
	var q *Queue
	q = NewQueue(sc, Limits{MaxBytes: 8 << 20, MaxFrameSize: 16 << 20, StallTimeout: 100 * time.Millisecond}, NewBudget(1<<30),
		func(time.Duration, int64) {
			stalls.Add(1)
			q.Close(errors.New("stalled"))
		})
	done := make(chan struct{})
	go func() { defer close(done); q.Run(func(err error) { q.Close(err) }) }()
	defer func() { q.Close(errEnded); sc.Close(); <-done }()
	_ = q.SendRaw(make([]byte, 1000))
	<-sc.entered // the writer holds it and writes nothing more
	start := time.Now()
	flushed := make(chan struct{})
	go func() { q.Flush(context.Background()); close(flushed) }()
	select {
	case <-flushed:
	case <-time.After(5 * time.Second):
		t.Fatalf("Flush still waits after 50 stall timeouts; stalls reported: %d", stalls.Load())
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Fatalf("Flush returned after %v; want the stall timeout first", took)
	}
	if stalls.Load() != 1 {
		t.Fatalf("stall reported %d times", stalls.Load())
	}
}

// failConn fails every write.
type failConn struct{ stallConn }

func (f *failConn) WriteMessages(...[]byte) error { return net.ErrClosed }

// A failed write goes to Run's callback, which closes the queue: later
// sends get the callback's error and nothing stays counted.
func TestWriteFailure(t *testing.T) {
	fc := &failConn{stallConn{closed: make(chan struct{})}}
	q := NewQueue(fc, Limits{MaxBytes: 1 << 20, MaxFrameSize: 1 << 20, StallTimeout: time.Minute}, NewBudget(1<<30), nil)
	got := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(func(err error) { got <- err; q.Close(errors.New("write failed: " + err.Error())) })
	}()
	_ = q.SendRaw([]byte("x"))
	select {
	case err := <-got:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Run reported %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a failed write was not reported")
	}
	<-done
	if err := q.SendRaw([]byte("y")); err == nil || !strings.Contains(err.Error(), "write failed") {
		t.Fatalf("a send after the failure: %v", err)
	}
	if q.Queued() != 0 {
		t.Fatalf("%d bytes still counted after the queue ended", q.Queued())
	}
}

// A message over the frame limit is refused with its size and the limit,
// and is not queued.
func TestFrameTooLarge(t *testing.T) {
	q, _ := newTestQueue(t, Limits{MaxBytes: 1 << 20, MaxFrameSize: 100}, nil)
	w := GetBuf()
	w.B = append(w.B, make([]byte, 101)...)
	err := q.Send(w)
	var fe *FrameTooLargeError
	if !errors.As(err, &fe) || fe.Size != 101 || fe.Limit != 100 || err.Error() != "packet of 101 bytes exceeds the frame limit of 100" {
		t.Fatalf("Send of 101 bytes with a limit of 100: %v", err)
	}
	if q.Queued() != 0 {
		t.Fatalf("a refused message is counted: %d bytes", q.Queued())
	}
}
