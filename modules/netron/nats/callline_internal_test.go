package nats

import (
	"math"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"
)

func call(caller string, i int) queuedCall {
	return queuedCall{msg: &nats.Msg{Subject: "s", Reply: caller + "." + strconv.Itoa(i), Data: []byte("x")}, caller: caller}
}

// A caller runs at most perCaller calls at once; another caller's call runs
// at once beside them instead of waiting for one of them to end, up to the
// service's slots (instanceCallsPerPeer times perCaller), all callers
// together.
func TestCallLineCallerTakesItsShareOnly(t *testing.T) {
	l := newCallLine(2)
	if l.slots != 2*instanceCallsPerPeer {
		t.Fatalf("slots %d, want %d", l.slots, 2*instanceCallsPerPeer)
	}
	for i := range 2 {
		if run, _ := l.enter(call("flooder", i)); !run {
			t.Fatalf("the flooder's call %d waits with a slot free", i)
		}
	}
	if run, queued := l.enter(call("flooder", 2)); run || !queued {
		t.Fatalf("the flooder's third call: run %v, queued %v; want it in line (2 per caller)", run, queued)
	}
	if run, _ := l.enter(call("other", 0)); !run {
		t.Fatal("another caller's call waits while the flooder holds only its own share")
	}
	// The other caller's call ends: nothing of the flooder's may take its
	// slot, the flooder runs its share already.
	if c, ok := l.leave("other"); ok {
		t.Fatalf("the flooder's %s took a slot beyond its share", c.msg.Reply)
	}
	// One of the flooder's ends: its waiting call takes the slot.
	if c, ok := l.leave("flooder"); !ok || c.msg.Reply != "flooder.2" {
		t.Fatalf("after a flooder's call ended: %v %v, want flooder.2 to run", c.msg, ok)
	}
	if l.running != 2 || l.runningBy["flooder"] != 2 || l.waiting != 0 || l.bytes != 0 {
		t.Fatalf("running %d (flooder %d), waiting %d, %d bytes; want 2 (2), 0, 0", l.running, l.runningBy["flooder"], l.waiting, l.bytes)
	}
}

// With every slot of the service taken, calls wait; a slot given up goes
// to the next caller in turn that runs fewer than its share, passing over
// the callers that run their share; and the counts go back to nothing.
func TestCallLineTurnsSkipCallersAtTheirShare(t *testing.T) {
	l := newCallLine(1) // 1 per caller, 10 for the service
	for i := range instanceCallsPerPeer {
		if run, _ := l.enter(call("c"+strconv.Itoa(i), 0)); !run {
			t.Fatalf("caller %d waits with a slot free", i)
		}
	}
	// c0 (at its share) and late (not yet running) wait, c0 first.
	if run, queued := l.enter(call("c0", 1)); run || !queued {
		t.Fatalf("c0's second call: run %v queued %v", run, queued)
	}
	if run, queued := l.enter(call("late", 0)); run || !queued {
		t.Fatalf("a new caller's call with every slot taken: run %v queued %v", run, queued)
	}
	// c5 ends: c0 is first in turn but runs its share; late takes the slot.
	if c, ok := l.leave("c5"); !ok || c.caller != "late" {
		t.Fatalf("after c5 ended: %+v %v, want late's call", c, ok)
	}
	// c0's call ends: its waiting one takes the slot.
	if c, ok := l.leave("c0"); !ok || c.msg.Reply != "c0.1" {
		t.Fatalf("after c0 ended: %+v %v, want c0.1", c, ok)
	}
	for _, caller := range []string{"c0", "c1", "c2", "c3", "c4", "c6", "c7", "c8", "c9", "late"} {
		if c, ok := l.leave(caller); ok {
			t.Fatalf("%s's call ended and %s took the slot: nothing waits", caller, c.msg.Reply)
		}
	}
	if l.running != 0 || len(l.runningBy) != 0 || l.waiting != 0 || len(l.byCall) != 0 || len(l.turn) != 0 {
		t.Fatalf("all ended: running %d, runningBy %v, waiting %d, byCall %d, turn %v", l.running, l.runningBy, l.waiting, len(l.byCall), l.turn)
	}
}

// The line refuses what is over its bounds: waiting calls of one caller,
// of all callers, and their bytes; and a huge MaxCallsPerPeer does not
// overflow them.
func TestCallLineBounds(t *testing.T) {
	l := newCallLine(1) // 16 wait, 4 of one caller
	if l.maxWait != waitingPerSlot || l.maxCaller != callerWaitingPerSlot {
		t.Fatalf("maxWait %d, maxCaller %d; want %d, %d", l.maxWait, l.maxCaller, waitingPerSlot, callerWaitingPerSlot)
	}
	if run, _ := l.enter(call("a", 0)); !run {
		t.Fatal("the first call waits")
	}
	for i := range l.maxCaller {
		if _, queued := l.enter(call("a", i+1)); !queued {
			t.Fatalf("a's waiting call %d refused below the caller's bound %d", i, l.maxCaller)
		}
	}
	if run, queued := l.enter(call("a", 99)); run || queued {
		t.Fatalf("a's call over its caller's waiting bound: run %v queued %v", run, queued)
	}
	// Fill the slots with other callers, then the line with theirs.
	for i := 1; i < l.slots; i++ {
		if run, _ := l.enter(call("r"+strconv.Itoa(i), 0)); !run {
			t.Fatalf("caller r%d waits with a slot free", i)
		}
	}
	for i := 0; l.waiting < l.maxWait; i++ {
		if _, queued := l.enter(call("w"+strconv.Itoa(i/l.maxCaller), i)); !queued {
			t.Fatalf("waiting call %d refused with %d of %d waiting", i, l.waiting, l.maxWait)
		}
	}
	if run, queued := l.enter(call("new", 0)); run || queued {
		t.Fatalf("a call over the line's waiting bound: run %v queued %v", run, queued)
	}

	b := newCallLine(1)
	b.enter(call("b", 0))
	huge := queuedCall{msg: &nats.Msg{Data: make([]byte, waitingBytes+1)}, caller: "b"}
	if run, queued := b.enter(huge); run || queued {
		t.Fatalf("a call over the waiting bytes: run %v queued %v", run, queued)
	}

	if big := newCallLine(math.MaxInt); big.slots <= 0 || big.maxWait <= 0 || big.maxCaller <= 0 {
		t.Fatalf("a huge MaxCallsPerPeer overflows: slots %d, maxWait %d, maxCaller %d", big.slots, big.maxWait, big.maxCaller)
	}
}

// TestCallLineCountsHeaderBytes: a waiting call holds its headers as well
// as its payload (NATS's max_payload counts both), so the line's 64 MiB
// bound on waiting bytes counts them too; calls whose bytes are in their
// headers do not pass it.
func TestCallLineCountsHeaderBytes(t *testing.T) {
	l := newCallLine(1)
	l.enter(queuedCall{msg: &nats.Msg{}, caller: "b"})
	h := nats.Header{}
	h.Set("X-Big", string(make([]byte, waitingBytes+1)))
	huge := queuedCall{msg: &nats.Msg{Header: h}, caller: "b"}
	if run, queued := l.enter(huge); run || queued {
		t.Fatalf("a call whose headers are over the waiting bytes: run %v queued %v (waiting bytes counted %d)", run, queued, l.bytes)
	}
}
