package httpmux_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/httpmux"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// records is a slog.Handler that keeps the records it is given, all levels,
// with the attributes of the logger they were logged with.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) WithAttrs(as []slog.Attr) slog.Handler    { return withAttrs{h, as} }
func (h *records) WithGroup(string) slog.Handler            { return h }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}

// withAttrs is a records handler of a logger with attributes.
type withAttrs struct {
	*records
	attrs []slog.Attr
}

func (h withAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return withAttrs{h.records, append(slices.Clone(h.attrs), as...)}
}

func (h withAttrs) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	return h.records.Handle(ctx, r)
}

// wait returns the records matching ok once there are some, or fails the
// test after a few seconds.
func (h *records) wait(t *testing.T, ok func(slog.Record) bool) []slog.Record {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		var got []slog.Record
		for _, r := range h.recs {
			if ok(r) {
				got = append(got, r)
			}
		}
		h.mu.Unlock()
		if len(got) > 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatal("no such record logged within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func attr(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

func acquireLogged(t *testing.T, o transport.Options) (*httpmux.Server, *records) {
	t.Helper()
	h := &records{}
	o.Logger = slog.New(h)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := httpmux.Acquire(ctx, "127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Release(context.Background()) })
	return s, h
}

// A panic in a mounted handler is logged to Options.Logger once, as an
// error with the panic's value and stack.
func TestHandlerPanicIsLogged(t *testing.T) {
	s, log := acquireLogged(t, transport.Options{})
	if _, err := s.Handle("/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom in a mounted handler")
	})); err != nil {
		t.Fatal(err)
	}
	if resp, err := plain.Get("http://" + s.Addr() + "/boom"); err == nil {
		resp.Body.Close()
		t.Fatalf("GET /boom: %d, want the connection closed", resp.StatusCode)
	}
	panics := log.wait(t, func(r slog.Record) bool { return strings.Contains(attr(r, "panic"), "boom") })
	r := panics[0]
	if len(panics) != 1 || r.Level != slog.LevelError || !strings.Contains(attr(r, "stack"), "goroutine") ||
		attr(r, "addr") != "http://"+s.Addr() {
		t.Errorf("got %d records, the first %v %q panic=%q addr=%q stack=%.40q; want one error with the stack and the address",
			len(panics), r.Level, r.Message, attr(r, "panic"), attr(r, "addr"), attr(r, "stack"))
	}
}

// A failed TLS handshake is the client's doing: it is logged at debug
// level, not as a warning or an error.
func TestTLSHandshakeErrorIsDebug(t *testing.T) {
	serverTLS, _ := transporttest.TLSConfigs(t)
	s, log := acquireLogged(t, transport.Options{TLS: serverTLS})
	c, err := net.DialTimeout("tcp", s.Addr(), timeout)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "hello, not a TLS client hello\r\n\r\n")
	_, _ = io.Copy(io.Discard, c)
	c.Close()
	got := log.wait(t, func(r slog.Record) bool { return strings.Contains(r.Message, "TLS handshake error") })
	if len(got) != 1 || got[0].Level != slog.LevelDebug {
		t.Errorf("got %d records, the first at %v: %q; want one at debug level", len(got), got[0].Level, got[0].Message)
	}
}

// A panic value of several lines is logged whole in the record's panic
// attribute, and the stack alone in its stack attribute.
func TestMultiLinePanicIsLoggedWhole(t *testing.T) {
	s, log := acquireLogged(t, transport.Options{})
	const value = "first line of the panic\nsecond line\n\nlast line"
	if _, err := s.Handle("/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(value)
	})); err != nil {
		t.Fatal(err)
	}
	if resp, err := plain.Get("http://" + s.Addr() + "/boom"); err == nil {
		resp.Body.Close()
		t.Fatalf("GET /boom: %d, want the connection closed", resp.StatusCode)
	}
	panics := log.wait(t, func(r slog.Record) bool { return r.Message == "an HTTP handler panicked" })
	r := panics[0]
	if got := attr(r, "panic"); got != value {
		t.Errorf("panic = %q, want %q", got, value)
	}
	if stack := attr(r, "stack"); !strings.HasPrefix(stack, "goroutine ") || strings.Contains(stack, "last line") {
		t.Errorf("stack = %.80q, want the stack alone, from its goroutine line", stack)
	}
}
