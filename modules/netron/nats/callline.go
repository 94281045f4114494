package nats

import (
	"math"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// waitingBytes bounds the bytes of the calls waiting for a slot on one
// instance, as nats.go's default pending limit bounds a subscription's.
const waitingBytes = 64 << 20

// waitingPerSlot is how many calls may wait per call slot of one caller
// (Config.MaxCallsPerPeer), and callerWaitingPerSlot how many of one
// caller's; with the default 256, 4,096 calls wait, 1,024 of them at most
// from one caller.
const (
	waitingPerSlot       = 16
	callerWaitingPerSlot = 4
)

// instanceCallsPerPeer is how many times Config.MaxCallsPerPeer calls of
// one service run at once on an instance, all callers together, as
// instanceStreamsPerPeer bounds the streams: a caller runs as many calls
// at once as a connection may, and callers' ids cost a client nothing, so
// the bound per caller alone would not bound what the instance holds.
const instanceCallsPerPeer = 10

// queuedCall is a call that arrived while its caller's slots, or the
// service's, were taken.
type queuedCall struct {
	msg     *nats.Msg
	caller  string
	arrived time.Time
}

// callLine bounds the calls of a service an instance runs at once (its
// slots, all callers together, and perCaller for one caller) and the calls
// that wait for a slot (by count and bytes, and by count for one caller).
// A caller that takes every slot it may leaves the service's others to
// the other callers, so that their calls run at once instead of after one
// of its calls; waiting calls are taken from their callers in turn, so
// that a caller with many calls waiting does not make the others wait
// behind all of them. It is safe for concurrent use.
type callLine struct {
	slots     int
	perCaller int
	maxWait   int
	maxCaller int
	maxBytes  int

	mu        sync.Mutex
	running   int
	runningBy map[string]int // caller -> its calls running
	waiting   int
	bytes     int
	byCall    map[string][]queuedCall // caller -> its waiting calls, oldest first
	turn      []string                // callers with waiting calls, next first
}

// newCallLine returns the line of a service whose callers each run
// perCaller calls at once (Config.MaxCallsPerPeer).
func newCallLine(perCaller int) *callLine {
	return &callLine{
		// min: no overflow for a huge MaxCallsPerPeer.
		slots:     min(perCaller, math.MaxInt/instanceCallsPerPeer) * instanceCallsPerPeer,
		perCaller: perCaller,
		maxWait:   min(perCaller, math.MaxInt/waitingPerSlot) * waitingPerSlot,
		maxCaller: min(perCaller, math.MaxInt/callerWaitingPerSlot) * callerWaitingPerSlot,
		maxBytes:  waitingBytes,
		runningBy: map[string]int{},
		byCall:    map[string][]queuedCall{},
	}
}

// callSize is what a waiting call holds: its payload, subjects and
// headers (NATS's max_payload counts the headers too, so a call may bring
// most of its bytes in them).
func callSize(c queuedCall) int {
	n := len(c.msg.Data) + len(c.msg.Subject) + len(c.msg.Reply)
	for k, vs := range c.msg.Header {
		n += len(k)
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
}

// enter takes a slot for c (run), or puts c in line (queued), or reports
// neither when the line is full.
func (l *callLine) enter(c queuedCall) (run, queued bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q, ok := l.byCall[c.caller]
	if !ok && l.running < l.slots && l.runningBy[c.caller] < l.perCaller {
		l.running++
		l.runningBy[c.caller]++
		return true, false
	}
	size := callSize(c)
	if l.waiting >= l.maxWait || len(q) >= l.maxCaller || l.bytes+size > l.maxBytes {
		return false, false
	}
	if !ok {
		l.turn = append(l.turn, c.caller)
	}
	l.byCall[c.caller] = append(q, c)
	l.waiting++
	l.bytes += size
	return false, true
}

// leave gives up the slot of a call of caller; when a call may take it,
// it does and is returned: the oldest call of the next caller in turn
// that runs fewer than perCaller calls. The callers it passes over (each
// runs perCaller calls: at most instanceCallsPerPeer of them) keep their
// turn for the slot one of their calls gives up.
func (l *callLine) leave(caller string) (queuedCall, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running--
	if n := l.runningBy[caller] - 1; n > 0 {
		l.runningBy[caller] = n
	} else {
		delete(l.runningBy, caller)
	}
	for range len(l.turn) {
		next := l.turn[0]
		l.turn[0] = ""
		l.turn = l.turn[1:]
		if l.runningBy[next] >= l.perCaller {
			l.turn = append(l.turn, next)
			continue
		}
		q := l.byCall[next]
		c := q[0]
		q[0] = queuedCall{}
		if q = q[1:]; len(q) == 0 {
			delete(l.byCall, next)
		} else {
			l.byCall[next] = q
			l.turn = append(l.turn, next)
		}
		l.waiting--
		l.bytes -= callSize(c)
		l.running++
		l.runningBy[next]++
		return c, true
	}
	return queuedCall{}, false
}
