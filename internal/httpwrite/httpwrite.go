// Package httpwrite bounds the writes of HTTP answers, so that a client
// that stops reading cannot hold a handler (and what feeds it) until the
// server stops: the gateway of package modules/netron/http and the servers
// of package internal/httpserve write through [Timed].
package httpwrite

import (
	"io"
	"net/http"
	"time"
)

// Part is the most bytes of an answer written under one write deadline:
// a larger write is cut into parts of this size, each with a deadline of
// its own, so that the timeout bounds a client that stops reading, not
// the time a large answer takes to a slow one.
const Part = 64 << 10

// Timed returns w with each write bounded by timeout: it sets the
// connection's write deadline (through [http.ResponseController]) before
// every WriteHeader, Write (of at most [Part] bytes) and flush. A write
// that stalls past it fails; net/http then cancels the request's context,
// which ends the work producing the answer, and closes the connection.
// Between writes there is no deadline to meet, so a stream whose items
// come slowly lives as long as its client reads it; net/http clears the
// deadline once the request's answer is complete.
//
// net/http writes what is buffered after the handler returns: call
// [Finish] then (deferred), so that this last write has its own timeout,
// not what is left of the one of the handler's last write.
//
// A response that cannot take a deadline (one of a router or a recorder
// that does not unwrap to net/http's) is written without one. Like any
// http.ResponseWriter, the result is for one goroutine at a time; it
// implements http.Flusher, FlushError and Unwrap, so
// http.ResponseController finds the writer underneath.
func Timed(w http.ResponseWriter, timeout time.Duration) http.ResponseWriter {
	return &timedWriter{ResponseWriter: w, rc: *http.NewResponseController(w), timeout: timeout}
}

type timedWriter struct {
	http.ResponseWriter
	rc      http.ResponseController
	timeout time.Duration
	off     bool // the response cannot take a deadline
	started bool // WriteHeader or Write was called
}

// arm gives the next write timeout from now.
func (w *timedWriter) arm() {
	if !w.off && w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) != nil {
		w.off = true
	}
}

func (w *timedWriter) WriteHeader(status int) {
	w.arm()
	w.started = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *timedWriter) Write(b []byte) (int, error) {
	w.started = true
	n := 0
	for {
		w.arm()
		part := b[n:]
		if len(part) > Part && !w.off {
			part = part[:Part]
		}
		m, err := w.ResponseWriter.Write(part)
		n += m
		if err != nil || n == len(b) {
			return n, err
		}
		if m == 0 {
			return n, io.ErrShortWrite
		}
	}
}

// FlushError flushes within the timeout; http.ResponseController.Flush
// calls it.
func (w *timedWriter) FlushError() error {
	w.arm()
	return w.rc.Flush()
}

// Flush is FlushError for callers of http.Flusher.
func (w *timedWriter) Flush() { _ = w.FlushError() }

// Unwrap returns the response w writes to, for http.ResponseController.
func (w *timedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Started reports whether the answer written through w, which came from
// [Timed], has begun (its status may be sent): a handler that fails then
// can no longer answer with an error of its own. It reports true for a w
// that did not come from Timed, whose state it cannot know.
func Started(w http.ResponseWriter) bool {
	tw, ok := w.(*timedWriter)
	return !ok || tw.started
}

// Finish gives the writes net/http makes after the handler returns (the
// buffered rest of the answer) a timeout of their own, when w came from
// [Timed]; it does nothing otherwise.
func Finish(w http.ResponseWriter) {
	if tw, ok := w.(*timedWriter); ok {
		tw.arm()
	}
}
