package http

import (
	"net/http"
	"sync"
	"time"
)

// streamFlushEvery is how long a streamed answer's items may wait in the
// response's buffer: an item written when the last flush is older than
// that is flushed at once, later ones within it are flushed together when
// it has passed (or when the buffer fills). A stream that produces items
// slowly sends each as it comes; one that produces them in a burst sends
// them in a few writes instead of a write (a system call, a TCP segment)
// each, which took a third of the CPU of a 64-caller stream benchmark.
const streamFlushEvery = time.Millisecond

// streamFlusher writes a streamed answer's items and flushes them as
// streamFlushEvery says. Its timers flush and keep the answer alive from
// their own goroutines, so every write goes through it, the answer's
// status and headers too; stop (or finish) stops them before the handler
// returns.
type streamFlusher struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	every   time.Duration
	mu      sync.Mutex
	last    time.Time   // of the last flush
	timer   *time.Timer // flushes what is pending
	pending bool        // written and not flushed
	done    bool
	err     error // of a write or flush: the client is gone

	head    func()        // writes the answer's status and headers; nil once called
	quiet   time.Duration // of the keep-alive: 0 for none
	ping    []byte        // what a keep-alive writes (not empty)
	idle    *time.Timer   // the keep-alive's
	written time.Time     // of the last write, a keep-alive's too
}

// newStreamFlusher returns a flusher of w whose answer begins with head
// (its status and headers), called before the first write. After quiet
// (when positive) without a write, it writes ping, after head if no item
// has called it, so that the client has its status and the proxies on the
// way do not take the connection for idle; and so on after every quiet
// period.
func newStreamFlusher(w http.ResponseWriter, every time.Duration, head func(), quiet time.Duration, ping []byte) *streamFlusher {
	f := &streamFlusher{w: w, rc: http.NewResponseController(w), every: every, head: head, quiet: quiet, ping: ping}
	if quiet > 0 {
		f.mu.Lock() // the timer's function reads f.idle
		f.written = time.Now()
		f.idle = time.AfterFunc(quiet, f.keepAlive)
		f.mu.Unlock()
	}
	return f
}

// begin writes the answer's status and headers, once.
func (f *streamFlusher) begin() {
	if h := f.head; h != nil {
		f.head = nil
		h()
	}
}

// unbegun runs answer, the handler's own answer (an error), when nothing
// of the stream's is written yet, and reports whether it did; the flusher
// is done then. Otherwise the stream is under way: it reports false.
func (f *streamFlusher) unbegun(answer func()) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.head == nil {
		return false
	}
	f.stopLocked()
	answer()
	return true
}

// keepAlive writes ping, after the answer's status and headers if they
// are still to come, when nothing was written for the quiet period;
// otherwise it waits for the rest of the period.
func (f *streamFlusher) keepAlive() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done || f.err != nil {
		return
	}
	now := time.Now()
	if since := now.Sub(f.written); since < f.quiet {
		f.idle.Reset(f.quiet - since)
		return
	}
	f.begin()
	if _, err := f.w.Write(f.ping); err != nil {
		f.err = err
		return
	}
	if f.flushLocked(now) == nil {
		f.written = now
		f.idle.Reset(f.quiet)
	}
}

// write writes b and flushes it at once or soon; an error says the client
// is gone (from this write or an earlier flush).
func (f *streamFlusher) write(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.begin()
	if _, err := f.w.Write(b); err != nil {
		f.err = err
		return err
	}
	now := time.Now()
	f.written = now
	since := now.Sub(f.last)
	if since >= f.every {
		return f.flushLocked(now)
	}
	if !f.pending {
		f.pending = true
		if f.timer == nil {
			f.timer = time.AfterFunc(f.every-since, f.fire)
		} else {
			f.timer.Reset(f.every - since)
		}
	}
	return nil
}

func (f *streamFlusher) fire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending && !f.done && f.err == nil {
		_ = f.flushLocked(time.Now())
	}
}

func (f *streamFlusher) flushLocked(now time.Time) error {
	f.pending, f.last = false, now
	if err := f.rc.Flush(); err != nil {
		f.err = err
	}
	return f.err
}

// finish writes b (the stream's last words, if any), after the answer's
// status and headers if nothing else wrote them, flushes, and stops the
// timers: nothing touches the response after it. Calls after the first,
// or after stop or unbegun, do nothing.
func (f *streamFlusher) finish(b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	f.stopLocked()
	if f.err != nil {
		return
	}
	f.begin()
	if len(b) > 0 {
		if _, err := f.w.Write(b); err != nil {
			return
		}
	}
	_ = f.rc.Flush()
}

// stop flushes what was written and stops the timers, as finish does,
// without beginning an answer nothing began: a handler that leaves by
// a panic has not answered.
func (f *streamFlusher) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	f.stopLocked()
	if f.err == nil && f.head == nil {
		_ = f.rc.Flush()
	}
}

func (f *streamFlusher) stopLocked() {
	f.done = true
	if f.timer != nil {
		f.timer.Stop()
	}
	if f.idle != nil {
		f.idle.Stop()
	}
}
