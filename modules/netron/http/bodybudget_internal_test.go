package http

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/titanframework/titan/modules/netron/transport"
)

// failingReader gives body, then fails with err.
type failingReader struct {
	body io.Reader
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if err == io.EOF {
		return n, r.err
	}
	return n, err
}

// TestReadBodyReleasesOnError: readBody gives back what it reserved on
// every error, and reserves what the body it returns takes (but the spare
// byte of its buffer).
func TestReadBodyReleasesOnError(t *testing.T) {
	const budget, maxBody = 64 << 10, 16 << 10
	frameTimeout := fmt.Errorf("%w: 1000 of 4000 bytes in 15s", transport.ErrFrameTimeout)
	for _, c := range []struct {
		name     string
		body     io.Reader
		length   int64 // the announced length; -1: none
		taken    int64 // reserved by others before the request
		status   int
		reserved bool // whether the budget was reserved before the error
	}{
		{"read error", &failingReader{strings.NewReader("[1,"), io.ErrUnexpectedEOF}, 100, 0, 400, true},
		{"read error, length unknown", &failingReader{strings.NewReader(strings.Repeat(" ", 3000)), io.ErrUnexpectedEOF}, -1, 0, 400, true},
		{"not completed in time", &failingReader{strings.NewReader("[1,"), frameTimeout}, 100, 0, 408, true},
		{"announced too large", strings.NewReader("[]"), maxBody + 1, 0, 413, false},
		{"too large, length unknown", strings.NewReader(strings.Repeat(" ", maxBody+1)), -1, 0, 413, true},
		{"longer than announced", strings.NewReader(strings.Repeat(" ", maxBody+1)), 100, 0, 413, true},
		{"announced over the budget", strings.NewReader("[]"), maxBody, budget - maxBody + 1, 503, false},
		{"outgrows the budget", strings.NewReader(strings.Repeat(" ", maxBody)), -1, budget - 4<<10, 503, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := &Handler{cfg: defaultConfig(), log: slog.New(slog.DiscardHandler)}
			h.cfg.maxBody = maxBody
			h.bodies.limit = budget
			if !h.bodies.reserve(c.taken) {
				t.Fatal("cannot take the budget of others")
			}
			r := httptest.NewRequest(http.MethodPost, "/netron/invoke", c.body)
			r.ContentLength = c.length
			body, held, aerr := h.readBody(httptest.NewRecorder(), r)
			if aerr == nil || aerr.status != c.status || body != nil || held != 0 {
				t.Fatalf("%q, reserved %d, %+v; want a %d error", body, held, aerr, c.status)
			}
			if n := h.bodies.held.Load(); n != c.taken {
				t.Fatalf("%d bytes reserved after the error; want the %d of others", n, c.taken)
			}
		})
	}
	t.Run("success", func(t *testing.T) {
		h := &Handler{cfg: defaultConfig()}
		h.cfg.maxBody = maxBody
		h.bodies.limit = budget
		for _, length := range []int64{-1, 3000} {
			r := httptest.NewRequest(http.MethodPost, "/netron/invoke", strings.NewReader(strings.Repeat(" ", 3000)))
			r.ContentLength = length
			body, held, aerr := h.readBody(httptest.NewRecorder(), r)
			if aerr != nil || len(body) != 3000 || int64(cap(body)) > held+1 || h.bodies.held.Load() != held {
				t.Fatalf("length %d: %d bytes in a buffer of %d, reserved %d (budget: %d), %v", length, len(body), cap(body), held, h.bodies.held.Load(), aerr)
			}
			h.bodies.release(held)
		}
	})
}

// TestBodyBudgetConcurrent: reservations from many goroutines never pass
// the limit together, and all come back.
func TestBodyBudgetConcurrent(t *testing.T) {
	b := &bodyBudget{limit: 1000}
	var wg sync.WaitGroup
	var over sync.Once
	for i := range 8 {
		wg.Go(func() {
			for j := range 2000 {
				n := int64(1 + (i*7+j)%300)
				if !b.reserve(n) {
					continue
				}
				if held := b.held.Load(); held > b.limit {
					over.Do(func() { t.Errorf("%d bytes reserved; the limit is %d", held, b.limit) })
				}
				b.release(n)
			}
		})
	}
	wg.Wait()
	if n := b.held.Load(); n != 0 {
		t.Fatalf("%d bytes still reserved", n)
	}
}
