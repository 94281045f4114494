package session

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// The window: Take spends it, Grant refills it and wakes a waiting
// Acquire; Acquire ends with the context's cause or ErrReaderIdle.
func TestCredit(t *testing.T) {
	var c Credit
	c.Init(2, 0)
	if !c.Take() || !c.Take() || c.Take() {
		t.Fatal("a window of 2 did not give exactly 2 items")
	}
	got := make(chan error, 1)
	go func() { got <- c.Acquire(context.Background(), 10*time.Second) }()
	select {
	case err := <-got:
		t.Fatalf("Acquire returned %v with the window spent", err)
	case <-time.After(50 * time.Millisecond):
	}
	c.Grant(1)
	if err := <-got; err != nil {
		t.Fatalf("Acquire after a grant: %v", err)
	}
	if err := c.Acquire(context.Background(), 20*time.Millisecond); !errors.Is(err, ErrReaderIdle) {
		t.Fatalf("Acquire with no grant = %v, want ErrReaderIdle", err)
	}
	why := errors.New("reader cancelled")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(why)
	if err := c.Acquire(ctx, time.Hour); !errors.Is(err, why) {
		t.Fatalf("Acquire on a cancelled context = %v, want its cause", err)
	}
}

// A grant that leaves the byte window spent (a large item is still in
// flight) is the reader's too: Acquire's idle time counts from the last
// grant, not from when it began to wait. A reader that reads slowly, but
// grants within the idle time each time, is not idle.
func TestCreditIdleCountsFromLastGrant(t *testing.T) {
	t.Parallel()
	var c Credit
	c.Init(100, 1000)
	for _, cost := range []int64{100, 5000} {
		if !c.Take() {
			t.Fatal("no room in a window with little in flight")
		}
		c.Sent(cost)
	}
	const idle = 2 * time.Second
	got := make(chan error, 1)
	go func() { got <- c.Acquire(context.Background(), idle) }()
	time.Sleep(idle * 6 / 10)
	c.Grant(1) // the 100 bytes go back; the 5000 of the large item stay in flight
	select {
	case err := <-got:
		t.Fatalf("Acquire returned %v less than %v after the reader's last grant", err, idle)
	case <-time.After(idle * 6 / 10): // past idle since Acquire began, well within it since the grant
	}
	c.Grant(1)
	if err := <-got; err != nil {
		t.Fatalf("Acquire with a grant %v ago and the window open again: %v, want an item", idle*6/10, err)
	}
}

// Grants without end (they come from the other peer) keep the window at
// MaxWindow instead of wrapping it round to a negative count that would
// stall the stream; a grant of zero or less changes nothing.
func TestCreditGrantSaturates(t *testing.T) {
	var c Credit
	c.Init(1, 0)
	c.Grant(math.MaxInt)
	if !c.Take() {
		t.Fatal("after a grant of MaxInt on a window of 1, the window is spent")
	}
	c.Init(math.MaxInt, 0)
	c.Grant(math.MaxInt)
	c.Grant(math.MaxInt)
	if !c.Take() {
		t.Fatal("after grants of MaxInt the window is spent")
	}
	if got := c.n.Load(); got != MaxWindow-1 {
		t.Fatalf("window after the grants and one Take = %d, want 1<<31-1", got)
	}
	c.Init(1, 0)
	c.Grant(0)
	c.Grant(-5)
	if !c.Take() || c.Take() {
		t.Fatal("grants of 0 and -5 changed a window of 1")
	}
}

// Concurrent Takes never hand out more than was granted.
func TestCreditConcurrent(t *testing.T) {
	var c Credit
	c.Init(0, 0)
	var taken atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if c.Take() {
					taken.Add(1)
				}
			}
		}()
	}
	for range 100 {
		c.Grant(5)
	}
	wg.Wait()
	for c.Take() {
		taken.Add(1)
	}
	if taken.Load() != 500 {
		t.Fatalf("%d items taken of 500 granted", taken.Load())
	}
}

// A window in bytes: items go out while what is in flight is under it (one
// of any size when nothing is), and a grant gives back the costs of the
// oldest items it covers.
func TestCreditBytes(t *testing.T) {
	var c Credit
	c.Init(100, 1000)
	if !c.Take() {
		t.Fatal("nothing in flight, yet no item may go")
	}
	c.Sent(5000) // one item larger than the window
	if c.Take() {
		t.Fatal("an item went out with 5000 bytes in flight of a 1000-byte window")
	}
	c.Grant(1)
	for i := range 3 {
		if !c.Take() {
			t.Fatalf("item %d: no room with %d bytes in flight", i, 400*i)
		}
		c.Sent(400)
	}
	if c.Take() {
		t.Fatal("an item went out with 1200 bytes in flight of a 1000-byte window")
	}
	c.Grant(1) // the oldest 400 go back: 800 in flight
	if !c.Take() {
		t.Fatal("no room with 800 bytes in flight of 1000")
	}
	c.Sent(10)
	c.Grant(10) // more than was counted: everything goes back, and the next 7 are granted already
	if !c.Take() {
		t.Fatal("no room after everything was granted back")
	}
	for range 7 {
		c.Sent(1)
	}
	if inflight := c.inflight.Load(); inflight != 0 {
		t.Fatalf("%d bytes in flight after items granted before they were counted, want 0", inflight)
	}
	c.Sent(1)
	if inflight := c.inflight.Load(); inflight != 1 {
		t.Fatalf("%d bytes in flight after all earlier items were granted back and one sent, want 1", inflight)
	}
}

// The producer counts an item after it queued it (Sent follows
// Queue.AppendItem), so the reader's grant for it can come first: the
// grant still gives the item's bytes back, instead of leaving them in
// flight for good, which would hold the stream once they fill the window
// although the reader has read everything.
func TestCreditGrantBeforeSent(t *testing.T) {
	var c Credit
	c.Init(100, 1000)
	if !c.Take() {
		t.Fatal("nothing in flight, yet no item may go")
	}
	c.Grant(1)   // the reader read the item and granted it back...
	c.Sent(5000) // ...before the producer counted it
	if !c.Take() {
		t.Fatalf("no room with every item sent granted back (%d bytes counted in flight)", c.inflight.Load())
	}
	c.Sent(400)
	if inflight := c.inflight.Load(); inflight != 400 {
		t.Fatalf("%d bytes in flight with one item of 400 not granted, want 400", inflight)
	}
}

// A producer never waits for a grant a reader would not send: its count of
// a stream packet, header included, is under twice the reader's count of
// the item in it (a reader grants once it has read half its byte window),
// for the largest header and the smallest item.
func TestSentCostAgainstItemCost(t *testing.T) {
	for _, data := range []any{nil, "", "x", strings.Repeat("y", 1000)} {
		raw, err := protocol.Marshal(data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := protocol.AppendPacket(nil, &protocol.Packet{ID: math.MaxUint32, Type: protocol.TypeStream, Impulse: true,
			Live: true, EOS: true, StreamID: math.MaxUint32, StreamIndex: math.MaxUint32, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		sent, read := SentCost(len(b)), ItemCost(raw)
		if sent < read || sent >= 2*read {
			t.Errorf("item %q: the producer counts %d, the reader %d; want read <= sent < 2*read", data, sent, read)
		}
	}
}

// Add refuses past the bound, even when many add at once; Remove makes
// room again.
func TestOutboundsBound(t *testing.T) {
	o := NewOutbounds[int](10)
	var added atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if o.Add(uint32(g*100+i), i) {
					added.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	var filed []uint32
	for g := range 8 {
		for i := range 10 {
			if _, ok := o.Get(uint32(g*100 + i)); ok {
				filed = append(filed, uint32(g*100+i))
			}
		}
	}
	if added.Load() != 10 || len(filed) != 10 {
		t.Fatalf("%d added, %d filed; the bound is 10", added.Load(), len(filed))
	}
	if o.Add(999, 1) {
		t.Fatal("Add past the bound succeeded")
	}
	o.Remove(999) // never filed: makes no room
	if o.Add(998, 1) {
		t.Fatal("removing an id never filed made room")
	}
	o.Remove(filed[0])
	if _, ok := o.Get(filed[0]); ok || !o.Add(999, 7) {
		t.Fatal("Remove did not make room")
	}
	if v, ok := o.Get(999); !ok || v != 7 {
		t.Fatalf("Get(999) = %v, %v", v, ok)
	}
}
