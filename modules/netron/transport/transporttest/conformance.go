package transporttest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
)

// Run runs the conformance suite against the transport registered for scheme: round trips of
// many sizes, ordering under concurrent writers, full duplex, frame limits on both sides,
// closing, cancellation, addresses and many connections per listener. Its subtests do not
// call t.Parallel, so timing-sensitive callers stay in control.
func Run(t *testing.T, scheme string) {
	t.Helper()
	if _, err := transport.Lookup(scheme); err != nil {
		t.Fatalf("transporttest: %v", err)
	}
	tests := []struct {
		name string
		fn   func(*testing.T, string)
	}{
		{"RoundTrip", testRoundTrip},
		{"Batch", testBatch},
		{"ConcurrentWritersKeepOrder", testConcurrentOrder},
		{"FullDuplex", testFullDuplex},
		{"MaxFrameSize", testMaxFrameSize},
		{"PeerOverLimitClosesConn", testPeerOverLimit},
		{"CloseUnblocksRead", testCloseUnblocksRead},
		{"CloseUnblocksWrite", testCloseUnblocksWrite},
		{"PeerCloseIsEOF", testPeerClose},
		{"Addresses", testAddresses},
		{"AcceptContext", testAcceptContext},
		{"ListenerClose", testListenerClose},
		{"AddressInUse", testAddressInUse},
		{"ManyConnections", testManyConns},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, scheme) })
	}
}

func testRoundTrip(t *testing.T, scheme string) {
	client, server := Pair(t, scheme, transport.Options{})
	for i, size := range []int{0, 1, 32, 4 << 10, 1 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			msg := pattern(size, byte(i))
			echo(t, client, server, msg)
			echo(t, server, client, msg)
		})
	}
}

// echo sends msg from a to b and checks that b receives exactly msg.
func echo(t *testing.T, a, b transport.Conn, msg []byte) {
	t.Helper()
	wrote := goWrite(a, msg)
	got := await(t, goRead(b), "ReadMessage")
	if err := await(t, wrote, "WriteMessages"); err != nil {
		t.Fatalf("WriteMessages(%d bytes): %v", len(msg), err)
	}
	if got.err != nil {
		t.Fatalf("ReadMessage: %v", got.err)
	}
	if !bytes.Equal(got.msg, msg) {
		t.Fatalf("received %d bytes, want the %d bytes sent (first difference at %d)", len(got.msg), len(msg), firstDiff(got.msg, msg))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func testBatch(t *testing.T, scheme string) {
	client, server := Pair(t, scheme, transport.Options{})
	var batch [][]byte
	for i, size := range []int{3, 0, 40 << 10, 1, 100 << 10, 32, 0} {
		batch = append(batch, pattern(size, byte(i+1)))
	}
	wrote := goWrite(client, batch...)
	for i, want := range batch {
		got, err := server.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message %d: got %d bytes, want %d (first difference at %d)", i, len(got), len(want), firstDiff(got, want))
		}
	}
	if err := await(t, wrote, "WriteMessages"); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteMessages(); err != nil {
		t.Fatalf("WriteMessages() with no messages: %v", err)
	}
}

// testConcurrentOrder writes 10,000 messages from 8 goroutines; each goroutine's order must be
// kept and every message must arrive once.
func testConcurrentOrder(t *testing.T, scheme string) {
	const writers, perWriter = 8, 1250
	client, server := Pair(t, scheme, transport.Options{})
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			var batch [][]byte
			for seq := range perWriter {
				m := make([]byte, 5+seq%40)
				m[0] = byte(w)
				binary.BigEndian.PutUint32(m[1:], uint32(seq))
				if w%2 == 0 { // even writers send one message per call, odd ones batches of 5
					if err := client.WriteMessages(m); err != nil {
						errs <- err
						return
					}
					continue
				}
				batch = append(batch, m)
				if len(batch) == 5 || seq == perWriter-1 {
					if err := client.WriteMessages(batch...); err != nil {
						errs <- err
						return
					}
					batch = batch[:0]
				}
			}
			errs <- nil
		}()
	}
	var next [writers]int
	for i := range writers * perWriter {
		m, err := server.ReadMessage()
		if err != nil {
			t.Fatalf("ReadMessage %d: %v", i, err)
		}
		if len(m) < 5 || int(m[0]) >= writers {
			t.Fatalf("message %d is malformed: % x", i, m)
		}
		w, seq := int(m[0]), int(binary.BigEndian.Uint32(m[1:]))
		if seq != next[w] || len(m) != 5+seq%40 {
			t.Fatalf("message %d: writer %d sequence %d (%d bytes), want sequence %d", i, w, seq, len(m), next[w])
		}
		next[w]++
	}
	for range writers {
		if err := await(t, errs, "writers"); err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
}

// testFullDuplex has both sides write more than socket buffers hold while reading.
func testFullDuplex(t *testing.T, scheme string) {
	const count, size = 2000, 4 << 10
	client, server := Pair(t, scheme, transport.Options{})
	var msgs [256][]byte // message i carries msgs[i%256]
	for i := range msgs {
		msgs[i] = pattern(size, byte(i))
	}
	run := func(c transport.Conn, seed byte) <-chan error {
		done := make(chan error, 2)
		go func() {
			for i := range count {
				if err := c.WriteMessages(msgs[seed+byte(i)]); err != nil {
					done <- fmt.Errorf("write %d: %w", i, err)
					return
				}
			}
			done <- nil
		}()
		go func() {
			for i := range count {
				m, err := c.ReadMessage()
				if err != nil {
					done <- fmt.Errorf("read %d: %w", i, err)
					return
				}
				if want := msgs[100-seed+byte(i)]; !bytes.Equal(m, want) {
					done <- fmt.Errorf("read %d: wrong content", i)
					return
				}
			}
			done <- nil
		}()
		return done
	}
	a, b := run(client, 0), run(server, 100)
	for range 2 {
		if err := await(t, a, "client"); err != nil {
			t.Fatalf("client: %v", err)
		}
		if err := await(t, b, "server"); err != nil {
			t.Fatalf("server: %v", err)
		}
	}
}

func testMaxFrameSize(t *testing.T, scheme string) {
	const limit = 64 << 10
	client, server := Pair(t, scheme, transport.Options{MaxFrameSize: limit})
	echo(t, client, server, pattern(limit, 1))

	err := client.WriteMessages(pattern(limit+1, 2))
	if !errors.Is(err, transport.ErrFrameTooLarge) {
		t.Fatalf("WriteMessages(limit+1 bytes) = %v, want ErrFrameTooLarge", err)
	}
	if msg := err.Error(); !strings.Contains(msg, strconv.Itoa(limit+1)) || !strings.Contains(msg, strconv.Itoa(limit)) {
		t.Errorf("error %q does not name the size %d and the limit %d", msg, limit+1, limit)
	}
	// A batch holding one oversized message writes nothing at all.
	err = client.WriteMessages([]byte("before"), pattern(limit+1, 3), []byte("after"))
	if !errors.Is(err, transport.ErrFrameTooLarge) {
		t.Fatalf("WriteMessages(batch with an oversized message) = %v, want ErrFrameTooLarge", err)
	}
	// The connection still works, and the refused messages never arrive.
	echo(t, client, server, []byte("next"))
	echo(t, server, client, pattern(limit, 4))
}

func testPeerOverLimit(t *testing.T, scheme string) {
	const limit = 64 << 10
	l := Listen(t, scheme, transport.Options{MaxFrameSize: limit})
	client, server := Connect(t, l, transport.Options{MaxFrameSize: 2 * limit})
	wrote := goWrite(client, pattern(limit+1, 1))
	_, err := server.ReadMessage()
	if !errors.Is(err, transport.ErrFrameTooLarge) {
		t.Fatalf("server ReadMessage of a %d-byte frame with limit %d = %v, want ErrFrameTooLarge", limit+1, limit, err)
	}
	if _, err := server.ReadMessage(); !errors.Is(err, transport.ErrFrameTooLarge) {
		t.Errorf("second ReadMessage = %v, want the same ErrFrameTooLarge", err)
	}
	await(t, wrote, "WriteMessages") // may succeed or fail, depending on timing
	if r := await(t, goRead(client), "client ReadMessage after the server dropped it"); r.err == nil {
		t.Fatalf("client ReadMessage = %d bytes, want an error: the server closed the connection", len(r.msg))
	}
}

func testCloseUnblocksRead(t *testing.T, scheme string) {
	client, server := Pair(t, scheme, transport.Options{})
	read := goRead(server)
	time.Sleep(20 * time.Millisecond) // let ReadMessage block; the result is the same if it has not yet
	if err := server.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if r := await(t, read, "ReadMessage to return after Close"); !errors.Is(r.err, net.ErrClosed) {
		t.Fatalf("ReadMessage after Close = %v, want net.ErrClosed", r.err)
	}
	if err := server.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := server.ReadMessage(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadMessage on a closed conn = %v, want net.ErrClosed", err)
	}
	if err := server.WriteMessages([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteMessages on a closed conn = %v, want net.ErrClosed", err)
	}
	_ = client
}

func testCloseUnblocksWrite(t *testing.T, scheme string) {
	client, _ := Pair(t, scheme, transport.Options{})
	msg := pattern(1<<20, 9)
	done := make(chan error, 1)
	go func() {
		for { // nobody reads: the writer fills every buffer and blocks
			if err := client.WriteMessages(msg); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	if err := client.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := await(t, done, "WriteMessages to return after Close"); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteMessages after Close = %v, want net.ErrClosed", err)
	}
}

func testPeerClose(t *testing.T, scheme string) {
	client, server := Pair(t, scheme, transport.Options{})
	if err := client.WriteMessages([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	r := await(t, goRead(server), "ReadMessage")
	if r.err != nil || string(r.msg) != "last words" {
		t.Fatalf("ReadMessage = %q, %v; want the message sent before Close", r.msg, r.err)
	}
	for i := range 2 {
		if r := await(t, goRead(server), "ReadMessage"); r.err != io.EOF {
			t.Fatalf("ReadMessage %d after the peer closed = %v, want io.EOF", i, r.err)
		}
	}
	// Errors after the connection's own Close match net.ErrClosed, whatever ended the reads
	// before it (transport.Conn).
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := server.ReadMessage(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("ReadMessage after io.EOF and Close = %v, want net.ErrClosed", err)
	}
}

func testAddresses(t *testing.T, scheme string) {
	l := Listen(t, scheme, transport.Options{})
	u, err := url.Parse(l.Addr())
	if err != nil || u.Scheme != scheme {
		t.Fatalf("Addr() = %q: not a %s URL (%v)", l.Addr(), scheme, err)
	}
	if strings.HasSuffix(u.Host, ":0") || u.String() == scheme+"://" {
		t.Fatalf("Addr() = %q: wildcard not resolved", l.Addr())
	}
	client, server := Connect(t, l, transport.Options{})
	if client.RemoteAddr() != l.Addr() || server.LocalAddr() != l.Addr() {
		t.Errorf("client.RemoteAddr() = %q, server.LocalAddr() = %q; want both %q", client.RemoteAddr(), server.LocalAddr(), l.Addr())
	}
	if server.RemoteAddr() != client.LocalAddr() {
		t.Errorf("server.RemoteAddr() = %q, want client.LocalAddr() = %q", server.RemoteAddr(), client.LocalAddr())
	}
	if !strings.HasPrefix(client.LocalAddr(), scheme+":") {
		t.Errorf("client.LocalAddr() = %q, want a %s URL", client.LocalAddr(), scheme)
	}
}

func testAcceptContext(t *testing.T, scheme string) {
	l := Listen(t, scheme, transport.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Accept(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Accept(cancelled ctx) = %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept(ctx)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := await(t, done, "Accept to return after cancel"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Accept after cancel = %v, want context.Canceled", err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer dcancel()
	if _, err := l.Accept(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Accept past the deadline = %v, want context.DeadlineExceeded", err)
	}
	// The listener still works after abandoned Accepts.
	client, server := Connect(t, l, transport.Options{})
	echo(t, client, server, []byte("still accepting"))
}

func testListenerClose(t *testing.T, scheme string) {
	l := Listen(t, scheme, transport.Options{})
	client, server := Connect(t, l, transport.Options{})
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := await(t, done, "Accept to return after Close"); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
	}
	if _, err := l.Accept(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept on a closed listener = %v, want net.ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	// Accepted connections outlive their listener.
	echo(t, client, server, []byte("after listener close"))
	// Nobody answers the address any more.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if c, err := transport.Dial(ctx, l.Addr(), quick(transport.Options{})); err == nil {
		_ = c.Close()
		t.Fatalf("Dial %s after the listener closed succeeded", l.Addr())
	}
}

func testAddressInUse(t *testing.T, scheme string) {
	l := Listen(t, scheme, transport.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if l2, err := transport.Listen(ctx, l.Addr(), transport.Options{}); err == nil {
		_ = l2.Close()
		t.Fatalf("second Listen on %s succeeded", l.Addr())
	}
	// The first listener still serves. Transports may probe a bound address with a connection
	// of their own (unix does, to tell a stale socket from a live one); the probe shows up as a
	// connection that ends without a message, and is skipped.
	client := Dial(t, l.Addr(), transport.Options{})
	want := []byte("first listener unharmed")
	if err := client.WriteMessages(want); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		server, err := l.Accept(ctx)
		if err != nil {
			t.Fatalf("Accept: %v", err)
		}
		t.Cleanup(func() { _ = server.Close() })
		r := await(t, goRead(server), "ReadMessage")
		if r.err == io.EOF {
			continue
		}
		if r.err != nil || !bytes.Equal(r.msg, want) {
			t.Fatalf("ReadMessage = %q, %v; want %q", r.msg, r.err, want)
		}
		return
	}
	t.Fatal("the first listener never delivered the client's message")
}

func testManyConns(t *testing.T, scheme string) {
	const conns = 32
	l := Listen(t, scheme, transport.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { // echo server
		for {
			c, err := l.Accept(ctx)
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				for {
					m, err := c.ReadMessage()
					if err != nil {
						return
					}
					if err := c.WriteMessages(m); err != nil {
						return
					}
				}
			})
		}
	})
	errs := make(chan error, conns)
	for i := range conns {
		go func() {
			dctx, dcancel := context.WithTimeout(ctx, timeout)
			defer dcancel()
			c, err := transport.Dial(dctx, l.Addr(), quick(transport.Options{}))
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for j := range 10 {
				msg := []byte(fmt.Sprintf("conn %d message %d", i, j))
				if err := c.WriteMessages(msg); err != nil {
					errs <- err
					return
				}
				got, err := c.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("conn %d got %q, want %q", i, got, msg)
					return
				}
			}
			errs <- nil
		}()
	}
	for range conns {
		if err := await(t, errs, "clients"); err != nil {
			t.Error(err)
		}
	}
	cancel()
	wg.Wait()
}
