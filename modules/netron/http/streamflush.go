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
// streamFlushEvery says. Its timer flushes from its own goroutine, so
// every write goes through it; finish stops it before the handler returns.
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
}

func newStreamFlusher(w http.ResponseWriter, every time.Duration) *streamFlusher {
	return &streamFlusher{w: w, rc: http.NewResponseController(w), every: every}
}

// write writes b and flushes it at once or soon; an error says the client
// is gone (from this write or an earlier flush).
func (f *streamFlusher) write(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if _, err := f.w.Write(b); err != nil {
		f.err = err
		return err
	}
	now := time.Now()
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

// finish writes b (the stream's last words, if any), flushes, and stops
// the timer: nothing touches the response after it. Calls after the first
// do nothing.
func (f *streamFlusher) finish(b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	f.done = true
	if f.timer != nil {
		f.timer.Stop()
	}
	if f.err != nil {
		return
	}
	if len(b) > 0 {
		if _, err := f.w.Write(b); err != nil {
			return
		}
	}
	_ = f.rc.Flush()
}
