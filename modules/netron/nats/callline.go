package nats

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// waitingBytes bounds the bytes of the calls waiting for a slot on one
// instance, as nats.go's default pending limit bounds a subscription's.
const waitingBytes = 64 << 20

// waitingPerSlot is how many calls may wait per call slot, and
// callerWaitingPerSlot how many of one caller's; with the default 256
// slots, 4,096 calls wait, 1,024 of them at most from one caller.
const (
	waitingPerSlot       = 16
	callerWaitingPerSlot = 4
)

// queuedCall is a call that arrived while every slot was taken.
type queuedCall struct {
	msg     *nats.Msg
	arrived time.Time
}

// callLine bounds the calls an instance runs at once (its slots) and the
// calls that wait for a slot (by count and bytes, and by count for one
// caller). Waiting calls are taken from their callers in turn, so that a
// caller with many calls waiting does not make the others wait behind
// all of them. It is safe for concurrent use.
type callLine struct {
	slots     int
	maxWait   int
	maxCaller int
	maxBytes  int

	mu      sync.Mutex
	running int
	waiting int
	bytes   int
	byCall  map[string][]queuedCall // caller -> its waiting calls, oldest first
	turn    []string                // callers with waiting calls, next first
}

func newCallLine(slots int) *callLine {
	return &callLine{slots: slots, maxWait: slots * waitingPerSlot, maxCaller: slots * callerWaitingPerSlot,
		maxBytes: waitingBytes, byCall: map[string][]queuedCall{}}
}

// enter takes a slot for c (run), or puts c in line (queued), or reports
// neither when the line is full.
func (l *callLine) enter(caller string, c queuedCall) (run, queued bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running < l.slots {
		l.running++
		return true, false
	}
	size := len(c.msg.Data) + len(c.msg.Subject) + len(c.msg.Reply)
	q, ok := l.byCall[caller]
	if l.waiting >= l.maxWait || len(q) >= l.maxCaller || l.bytes+size > l.maxBytes {
		return false, false
	}
	if !ok {
		l.turn = append(l.turn, caller)
	}
	l.byCall[caller] = append(q, c)
	l.waiting++
	l.bytes += size
	return false, true
}

// leave gives up a slot; when a call waits, it takes the slot instead and
// is returned (the next caller's oldest call).
func (l *callLine) leave() (queuedCall, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.turn) == 0 {
		l.running--
		return queuedCall{}, false
	}
	caller := l.turn[0]
	l.turn = l.turn[1:]
	q := l.byCall[caller]
	c := q[0]
	q[0] = queuedCall{}
	if q = q[1:]; len(q) == 0 {
		delete(l.byCall, caller)
	} else {
		l.byCall[caller] = q
		l.turn = append(l.turn, caller)
	}
	l.waiting--
	l.bytes -= len(c.msg.Data) + len(c.msg.Subject) + len(c.msg.Reply)
	return c, true
}
