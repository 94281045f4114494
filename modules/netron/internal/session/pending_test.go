package session

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

func newPending() (*Pending, *Sweeper) {
	sw := NewSweeper(func(d time.Duration) error { return fmt.Errorf("no answer within %v", d) })
	var p Pending
	p.Init(sw)
	return &p, sw
}

// An answer reaches the call of its id, once; an unknown id is dropped.
func TestPendingResolve(t *testing.T) {
	p, _ := newPending()
	a, b := p.Add(1, 0), p.Add(33, 0) // 1 and 33 share a shard
	p.Resolve(protocol.Packet{ID: 33}, protocol.RawValue{0xc3}, nil)
	p.Resolve(protocol.Packet{ID: 99}, nil, nil)
	select {
	case r := <-b.C:
		if r.Packet.ID != 33 || len(r.Payload) != 1 || r.Err != nil {
			t.Fatalf("call 33 got %+v", r)
		}
	default:
		t.Fatal("call 33 got no answer")
	}
	select {
	case r := <-a.C:
		t.Fatalf("call 1 got an answer meant for another: %+v", r)
	default:
	}
	if p.Take(33) != nil {
		t.Fatal("an answered call is still waiting")
	}
	if p.Take(1) != a {
		t.Fatal("Take did not return the waiting call")
	}
}

// FailAll fails every call waiting, with its error.
func TestPendingFailAll(t *testing.T) {
	p, _ := newPending()
	ws := []*Waiter{p.Add(1, 0), p.Add(2, 0), p.Add(3, 0)}
	boom := errors.New("gone")
	p.FailAll(boom)
	for i, w := range ws {
		if r := <-w.C; !errors.Is(r.Err, boom) {
			t.Fatalf("call %d got %+v", i+1, r)
		}
	}
}

// A timeout of CoarseMin or more is the sweeper's: the call fails with the
// sweeper's error within a tick of its deadline, marked expired; a shorter
// one is left to the caller. The sweeper's goroutine ends once no table is
// registered.
func TestSweeperExpires(t *testing.T) {
	p, sw := newPending()
	short := p.Add(1, 10*time.Millisecond)
	if short.Swept() {
		t.Fatal("a 10 ms timeout was left to the sweeper")
	}
	start := time.Now()
	w := p.Add(2, CoarseMin)
	if !w.Swept() {
		t.Fatal("a 1 s timeout was not left to the sweeper")
	}
	r := <-w.C
	if took := time.Since(start); took < CoarseMin || took > CoarseMin+5*SweepTick {
		t.Fatalf("expired after %v; want between %v and a tick later", took, CoarseMin)
	}
	if !r.Expired || r.Err == nil || r.Err.Error() != "no answer within 1s" {
		t.Fatalf("expired call got %+v", r)
	}
	select {
	case r := <-short.C:
		t.Fatalf("the sweeper failed a call with a timeout of its own: %+v", r)
	default:
	}
	p.Forget()
	deadline := time.Now().Add(2 * time.Second)
	for {
		sw.mu.Lock()
		running := sw.running
		sw.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweeper still runs with no table registered")
		}
		time.Sleep(SweepTick)
	}
}
