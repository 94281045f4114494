package netron_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"iter"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Producer is a stream service whose iterators report what they did.
type Producer struct {
	yielded atomic.Int64  // yield calls made by Items
	exits   chan string   // one entry per finished Ticks iterator: why it ended
	release chan struct{} // Blocked waits on it between items
}

func newProducer() *Producer {
	return &Producer{exits: make(chan string, 16), release: make(chan struct{})}
}

// exit reports why an iterator ended, dropping the report when nobody
// collects it.
func (p *Producer) exit(why string) {
	select {
	case p.exits <- why:
	default:
	}
}

// Items yields n strings of size bytes, counting each yield call before it
// is made (so a yield blocked inside the engine is counted).
func (p *Producer) Items(_ context.Context, n, size int) iter.Seq2[string, error] {
	item := strings.Repeat("x", size)
	return func(yield func(string, error) bool) {
		for range n {
			p.yielded.Add(1)
			if !yield(item, nil) {
				p.exit("yield returned false")
				return
			}
		}
	}
}

// Ticks yields 0, 1, 2, ... every everyMs milliseconds until it is stopped,
// and reports whether it saw yield return false or its context end.
func (p *Producer) Ticks(ctx context.Context, everyMs int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := 0; ; i++ {
			if !yield(i, nil) {
				p.exit("yield returned false")
				return
			}
			select {
			case <-ctx.Done():
				p.exit("context done")
				return
			case <-time.After(time.Duration(everyMs) * time.Millisecond):
			}
		}
	}
}

// netronServer starts a Netron with cfg and log serving calculator@1.0.0
// and producer@1.0.0 on a listener of scheme, stopped at cleanup.
func netronServer(t testing.TB, scheme string, cfg netron.Config, log *slog.Logger, opts ...netron.Option) (*server, *Producer) {
	t.Helper()
	n, err := netron.New(cfg, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	calc, prod := &Calc{}, newProducer()
	if err := n.Register("calculator", "1.0.0", calc); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("producer", "1.0.0", prod); err != nil {
		t.Fatal(err)
	}
	addr := scheme + "://127.0.0.1:0"
	switch scheme {
	case "mem":
		addr = "mem://"
	case "unix":
		addr = "unix://" + t.TempDir() + "/n.sock"
	}
	bound, err := n.Listen(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	return &server{n: n, calc: calc, addr: bound}, prod
}

// dialWith dials addr from a client Netron of its own with cfg, closed at
// cleanup.
func dialWith(t testing.TB, addr string, cfg netron.Config) *netron.Peer {
	t.Helper()
	return netron.DialForTest(t, addr, cfg)
}

// ---- captured logs ----

type logRecords struct {
	mu   sync.Mutex
	msgs []string // "LEVEL message key=value ..."
}

type captureHandler struct {
	rec   *logRecords
	attrs []slog.Attr
}

func (h captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h captureHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range h.attrs {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	h.rec.mu.Lock()
	h.rec.msgs = append(h.rec.msgs, b.String())
	h.rec.mu.Unlock()
	return nil
}

func (h captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return captureHandler{rec: h.rec, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h captureHandler) WithGroup(string) slog.Handler { return h }

func captureLogger() (*slog.Logger, *logRecords) {
	rec := &logRecords{}
	return slog.New(captureHandler{rec: rec}), rec
}

// count returns how many records contain every one of the substrings.
func (r *logRecords) count(subs ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
next:
	for _, m := range r.msgs {
		for _, s := range subs {
			if !strings.Contains(m, s) {
				continue next
			}
		}
		n++
	}
	return n
}

// waitFor polls until the records contain one with every substring.
func (r *logRecords) waitFor(t *testing.T, subs ...string) {
	t.Helper()
	r.waitForWithin(t, 2*time.Second, subs...)
}

// waitForWithin is waitFor with a time limit of d.
func (r *logRecords) waitForWithin(t *testing.T, d time.Duration, subs ...string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for r.count(subs...) == 0 {
		if time.Now().After(deadline) {
			r.mu.Lock()
			t.Errorf("no log record with %q; have:\n%s", subs, strings.Join(r.msgs, "\n"))
			r.mu.Unlock()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---- a hand-written client speaking the TCP framing ----

type rawConn struct {
	t  *testing.T
	nc net.Conn
}

// dialRaw opens a TCP connection to a tcp:// address, closed at cleanup.
func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", strings.TrimPrefix(addr, "tcp://"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc}
}

// write sends one frame: a 4-byte big-endian length and msg.
func (c *rawConn) write(msg []byte) {
	c.t.Helper()
	b := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	c.writeBytes(append(b, msg...))
}

// writeBytes writes b within 2 s and 1 s more per MiB (a guard against a
// server that stops reading, not a bound on its speed: a 10 MB message
// took over 2 s under -race on a loaded 2-core machine).
func (c *rawConn) writeBytes(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(2*time.Second + time.Duration(len(b)>>20)*time.Second))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readFrame reads one frame within d.
func (c *rawConn) readFrame(d time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	var hdr [4]byte
	if _, err := io.ReadFull(c.nc, hdr[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c.nc, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

func (c *rawConn) read() []byte {
	c.t.Helper()
	msg, err := c.readFrame(3 * time.Second)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return msg
}

// serverID reads the server's first frame, which must be its id message.
func (c *rawConn) serverID() map[string]any {
	c.t.Helper()
	msg := c.read()
	var h map[string]any
	if err := json.Unmarshal(msg, &h); err != nil || h["type"] != "id" {
		c.t.Fatalf("first frame %q is not the id message (%v)", msg, err)
	}
	return h
}

// clientID sends {"type":"client-id","id":id}.
func (c *rawConn) clientID(id string) {
	c.t.Helper()
	c.write([]byte(`{"type":"client-id","id":"` + id + `"}`))
}

// handshake reads the server's id message and answers with client-id.
func (c *rawConn) handshake(id string) {
	c.t.Helper()
	c.serverID()
	c.clientID(id)
}

// callAdd is the CALL packet ["calculator@1.0.0","add",a,b] (a, b < 128)
// with the given id, written by hand as in NETRON-WIRE.md §2.4.
func callAdd(id uint32, a, b byte) []byte {
	p := binary.BigEndian.AppendUint32(nil, id)
	p = append(p, 0x43, 0x94, 0xb0)
	p = append(p, "calculator@1.0.0"...)
	p = append(p, 0xa3, 'a', 'd', 'd', a, b)
	return p
}
