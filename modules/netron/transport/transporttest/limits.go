package transporttest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
)

// RawPeer reaches a listener below the transport's framing, for [RunLimits].
type RawPeer struct {
	// Dial opens a connection to the listener at addr, from the local address from when it is
	// valid, ready to carry messages (a WebSocket connection is upgraded). It fails when the
	// server refuses the connection while setting it up (closes it before the upgrade).
	Dial func(ctx context.Context, addr string, from netip.Addr) (net.Conn, error)
	// Frame returns the bytes on the wire of one message carrying body.
	Frame func(body []byte) []byte
	// PerIP reports whether connections have a remote IP address (not so on Unix sockets),
	// so that [transport.Options.MaxConnsPerIP] applies.
	PerIP bool
	// Flood is the number of connections that trickle a message in the flood check; a fifth
	// as many more send half a message and stall. Zero means 1,000.
	Flood int
}

// limitOpts are short limits, so the checks run in a fraction of a second.
var limitOpts = transport.Options{
	FrameTimeout: 300 * time.Millisecond,
	FrameMinRate: transport.Rate{Bytes: 8 << 10, Per: 500 * time.Millisecond},
}

// RunLimits checks the connection limits of a listener of scheme ([transport.Options]
// HandshakeTimeout excepted, which each transport tests its own way): a message started and
// stalled, or trickled, is cut after FrameTimeout with [transport.ErrFrameTimeout]; a large
// message that keeps FrameMinRate is served however long it takes, and a connection idle
// between messages is not cut; connections over MaxConns and MaxConnsPerIP are refused while
// the others are served; and a flood of trickling and stalled connections is closed while a
// well-behaved client keeps being served.
func RunLimits(t *testing.T, scheme string, raw RawPeer) {
	t.Helper()
	// Each test has a listener of its own, and most of them wait out a
	// timeout: they run in parallel, but for the flood, which runs alone
	// first so that its load does not pace the others.
	runSuite(t, scheme, raw, []suiteCase[RawPeer]{
		{"Flood", testFlood, false},
		{"HalfMessageIsCut", testHalfMessage, true},
		{"TrickleIsCut", testTrickle, true},
		{"SteadySlowMessageIsServed", testSteadySlow, true},
		{"IdleIsNotCut", testIdle, true},
		{"MaxConns", testMaxConns, true},
		{"MaxConnsPerIP", testMaxConnsPerIP, true},
	})
}

// suiteCase is a test of a suite run on a listener of scheme with a peer of type P.
type suiteCase[P any] struct {
	name     string
	fn       func(*testing.T, string, P)
	parallel bool
}

// runSuite runs the cases as subtests, the parallel ones in parallel (after those that run
// alone, which come first so that their load does not pace the others).
func runSuite[P any](t *testing.T, scheme string, peer P, cases []suiteCase[P]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parallel {
				t.Parallel()
			}
			tc.fn(t, scheme, peer)
		})
	}
}

// rawAccept dials l raw and accepts the connection.
func rawAccept(t *testing.T, l transport.Listener, raw RawPeer) (net.Conn, transport.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rc, err := raw.Dial(ctx, l.Addr(), netip.Addr{})
	if err != nil {
		t.Fatalf("raw dial %s: %v", l.Addr(), err)
	}
	c, err := l.Accept(ctx)
	if err != nil {
		_ = rc.Close()
		t.Fatalf("accept: %v", err)
	}
	t.Cleanup(func() {
		_ = rc.Close() // first: a close handshake need not wait for it
		_ = c.Close()
	})
	return rc, c
}

// expectCut checks that a read on server fails with ErrFrameTimeout, not before about the
// frame timeout, and that the raw peer sees its connection end.
func expectCut(t *testing.T, rc net.Conn, server transport.Conn, began time.Time) {
	t.Helper()
	r := await(t, goRead(server), "ReadMessage")
	if !errors.Is(r.err, transport.ErrFrameTimeout) {
		t.Fatalf("ReadMessage = %d bytes, %v; want an error matching ErrFrameTimeout", len(r.msg), r.err)
	}
	if took := time.Since(began); took < limitOpts.FrameTimeout/2 {
		t.Errorf("cut after %v, before the frame timeout of %v", took, limitOpts.FrameTimeout)
	}
	t.Logf("server: %v", r.err)
	expectEnd(t, rc)
}

// expectEnd checks that the raw connection rc is ended by the server.
func expectEnd(t *testing.T, rc net.Conn) {
	t.Helper()
	_ = rc.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 512)
	for {
		_, err := rc.Read(buf)
		if err == nil {
			continue // a close frame, for instance
		}
		if isTimeout(err) {
			t.Fatalf("raw read: %v; want the end of the connection", err)
		}
		return
	}
}

func testHalfMessage(t *testing.T, scheme string, raw RawPeer) {
	l := Listen(t, scheme, limitOpts)
	rc, server := rawAccept(t, l, raw)
	wire := raw.Frame(pattern(1000, 1))
	began := time.Now()
	if _, err := rc.Write(wire[:len(wire)/2]); err != nil {
		t.Fatal(err)
	}
	expectCut(t, rc, server, began)
}

func testTrickle(t *testing.T, scheme string, raw RawPeer) {
	l := Listen(t, scheme, limitOpts)
	rc, server := rawAccept(t, l, raw)
	wire := raw.Frame(pattern(1000, 2))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := range wire {
			if _, err := rc.Write(wire[i : i+1]); err != nil {
				return
			}
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	expectCut(t, rc, server, time.Now())
}

func testSteadySlow(t *testing.T, scheme string, raw RawPeer) {
	l := Listen(t, scheme, limitOpts)
	rc, server := rawAccept(t, l, raw)
	// 64 KiB in 4 KiB pieces every 40 ms: about 0.6 s, twice the frame timeout, at six times
	// the minimum rate.
	msg := pattern(64<<10, 3)
	wire := raw.Frame(msg)
	read := goRead(server)
	for off := 0; off < len(wire); off += 4 << 10 {
		if _, err := rc.Write(wire[off:min(off+4<<10, len(wire))]); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
		time.Sleep(40 * time.Millisecond) // the pace under test
	}
	r := await(t, read, "ReadMessage")
	if r.err != nil || !bytes.Equal(r.msg, msg) {
		t.Fatalf("ReadMessage = %d bytes, %v; want the 64 KiB message", len(r.msg), r.err)
	}
	// The deadline is gone with the message: the next one, sent later, is read.
	time.Sleep(2 * limitOpts.FrameTimeout) // idle longer than the frame timeout
	if _, err := rc.Write(raw.Frame([]byte("next"))); err != nil {
		t.Fatal(err)
	}
	if r := await(t, goRead(server), "ReadMessage"); r.err != nil || string(r.msg) != "next" {
		t.Fatalf("next ReadMessage = %q, %v", r.msg, r.err)
	}
}

func testIdle(t *testing.T, scheme string, raw RawPeer) {
	l := Listen(t, scheme, limitOpts)
	rc, server := rawAccept(t, l, raw)
	read := goRead(server)
	time.Sleep(3 * limitOpts.FrameTimeout) // idle before the first byte: not limited
	wire := raw.Frame([]byte("after a silence"))
	if _, err := rc.Write(wire); err != nil {
		t.Fatal(err)
	}
	if r := await(t, read, "ReadMessage"); r.err != nil || string(r.msg) != "after a silence" {
		t.Fatalf("ReadMessage = %q, %v", r.msg, r.err)
	}
}

// refused reports whether a raw connection to addr is refused: the dial fails, or the server
// ends the connection without a word.
func refused(t *testing.T, raw RawPeer, addr string, from netip.Addr) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rc, err := raw.Dial(ctx, addr, from)
	if err != nil {
		t.Logf("refused at set-up: %v", err)
		return true
	}
	defer rc.Close()
	_ = rc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err = rc.Read(make([]byte, 1))
	return err != nil && !isTimeout(err)
}

// noAccept checks that l hands over no connection for a while.
func noAccept(t *testing.T, l transport.Listener) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if c, err := l.Accept(ctx); err == nil {
		_ = c.Close()
		t.Fatal("a connection over the cap was accepted")
	}
}

func testMaxConns(t *testing.T, scheme string, raw RawPeer) {
	o := transport.Options{MaxConns: 3}
	l := Listen(t, scheme, o)
	var servers []transport.Conn
	for range 3 {
		_, s := rawAccept(t, l, raw)
		servers = append(servers, s)
	}
	if !refused(t, raw, l.Addr(), netip.Addr{}) {
		t.Fatal("a fourth connection was not refused with MaxConns 3")
	}
	noAccept(t, l)
	// Closing one makes room.
	_ = servers[0].Close()
	rawAccept(t, l, raw)
}

func testMaxConnsPerIP(t *testing.T, scheme string, raw RawPeer) {
	if !raw.PerIP {
		t.Skip("connections of this transport have no remote IP address")
	}
	o := transport.Options{MaxConnsPerIP: 2}
	l := Listen(t, scheme, o)
	rawAccept(t, l, raw)
	rawAccept(t, l, raw)
	if !refused(t, raw, l.Addr(), netip.Addr{}) {
		t.Fatal("a third connection from 127.0.0.1 was not refused with MaxConnsPerIP 2")
	}
	noAccept(t, l)
	// Another address is served.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	other := netip.MustParseAddr("127.0.0.2")
	rc, err := raw.Dial(ctx, l.Addr(), other)
	if err != nil {
		t.Skipf("cannot dial from %s here (%v); the cap per address is checked above", other, err)
	}
	defer rc.Close()
	c, err := l.Accept(ctx)
	if err != nil {
		t.Fatalf("a connection from %s was not accepted: %v", other, err)
	}
	_ = c.Close()
}

// testFlood: Flood connections trickle a message a byte at a time and a fifth as many send
// half a message and stall, while a well-behaved client calls (sends a message and reads the
// echo) all along. Every offender is cut by the frame timeout; the client is served
// throughout.
func testFlood(t *testing.T, scheme string, raw RawPeer) {
	tricklers := raw.Flood
	if tricklers == 0 {
		tricklers = 1000
	}
	stalled := tricklers / 5
	offenders := tricklers + stalled
	if have := RaiseFDLimit(2*offenders + 256); have < 2*offenders+256 {
		tricklers = (have - 256) / 2 * 5 / 6
		stalled = tricklers / 5
		offenders = tricklers + stalled
		t.Logf("SIZED DOWN: the file descriptor limit is %d: %d trickling and %d stalled connections", have, tricklers, stalled)
	}
	o := transport.Options{
		FrameTimeout: 500 * time.Millisecond,
		FrameMinRate: transport.Rate{Bytes: 64 << 10, Per: 500 * time.Millisecond},
	}
	l := Listen(t, scheme, o)

	// The server: echo every message; count the connections cut for time.
	cut := serveEchoCountingCuts(t, l)

	// The offenders.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	raws := make([]net.Conn, offenders)
	sem := make(chan struct{}, 32)
	var dialErr atomic.Pointer[error]
	var dials sync.WaitGroup
	for i := range raws {
		dials.Add(1)
		sem <- struct{}{}
		go func() {
			defer dials.Done()
			defer func() { <-sem }()
			rc, err := raw.Dial(ctx, l.Addr(), netip.Addr{})
			if err != nil {
				dialErr.Store(&err)
				return
			}
			raws[i] = rc
		}()
	}
	dials.Wait()
	t.Cleanup(func() {
		for _, rc := range raws {
			if rc != nil {
				_ = rc.Close()
			}
		}
	})
	if e := dialErr.Load(); e != nil {
		t.Fatalf("raw dial: %v", *e)
	}
	trickle := raw.Frame(pattern(200, 4))
	half := raw.Frame(pattern(1000, 5))
	half = half[:len(half)/2]
	for _, rc := range raws[tricklers:] {
		if _, err := rc.Write(half); err != nil {
			t.Fatalf("half message: %v", err)
		}
	}
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		live := slices.Clone(raws[:tricklers])
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < len(trickle) && len(live) > 0; i++ {
			next := live[:0]
			for _, rc := range live {
				_ = rc.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := rc.Write(trickle[i : i+1]); err == nil {
					next = append(next, rc)
				}
			}
			live = next
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	defer func() { close(stop); <-trickled }()

	// The well-behaved client calls until every offender is cut.
	client := Dial(t, l.Addr(), transport.Options{})
	calls := 0
	deadline := time.Now().Add(timeout)
	for cut.Load() < int64(offenders) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d of %d offending connections were cut", timeout, cut.Load(), offenders)
		}
		msg := pattern(100, byte(calls))
		if err := client.WriteMessages(msg); err != nil {
			t.Fatalf("client call %d: %v", calls, err)
		}
		r := await(t, goRead(client), "the echo to the well-behaved client")
		if r.err != nil || !bytes.Equal(r.msg, msg) {
			t.Fatalf("client call %d: %q, %v", calls, r.msg, r.err)
		}
		calls++
		time.Sleep(10 * time.Millisecond) // the client's pace
	}
	t.Logf("%d trickling and %d stalled connections cut; the client made %d calls meanwhile", tricklers, stalled, calls)
	for i, rc := range raws {
		_ = rc.SetReadDeadline(time.Now().Add(timeout))
		buf := make([]byte, 64)
		for {
			_, err := rc.Read(buf)
			if err == nil {
				continue
			}
			if isTimeout(err) {
				t.Fatalf("offender %d: raw read %v; want the end of the connection", i, err)
			}
			break
		}
	}
}

// serveEchoCountingCuts serves l until the test ends, echoing every
// message, and counts the connections that ended with ErrFrameTimeout.
func serveEchoCountingCuts(t *testing.T, l transport.Listener) *atomic.Int64 {
	var cut atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []transport.Conn
	t.Cleanup(func() {
		_ = l.Close() // ends the accepting goroutine
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept(context.Background())
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					m, err := c.ReadMessage()
					if err != nil {
						if errors.Is(err, transport.ErrFrameTimeout) {
							cut.Add(1)
						}
						return
					}
					if c.WriteMessages(m) != nil {
						return
					}
				}
			}()
		}
	}()
	return &cut
}
