package transporttest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
)

// RawDialer opens a plain byte-stream connection to a listener's address URL, bypassing the
// transport's framing, so the suite can send hand-made bytes.
type RawDialer func(ctx context.Context, addr string) (net.Conn, error)

// RunStream runs the checks specific to transports framed with a u32 big-endian length prefix
// (NETRON-WIRE.md §3.2) against scheme: lying and oversized lengths, frames split at every byte
// or packed into one write, single-write batches ([transport.WriteCounter]) and the allocation
// bound for a declared length with few bytes behind it. dial reaches the listener without the
// framing. Its subtests do not run in parallel, which the allocation check relies on.
func RunStream(t *testing.T, scheme string, dial RawDialer) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, string, RawDialer)
	}{
		{"LyingLengthClosesConn", testLyingLength},
		{"ByteByByte", testByteByByte},
		{"ThreeFramesOneWrite", testThreeFramesOneWrite},
		{"BatchIsOneWrite", testBatchIsOneWrite},
		{"TruncatedFrame", testTruncatedFrame},
		{"DeclaredLengthDoesNotAllocate", testAllocationBound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, scheme, dial) })
	}
}

// rawPair returns a raw connection and the transport connection accepted for it.
func rawPair(t *testing.T, l transport.Listener, dial RawDialer) (net.Conn, transport.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	raw, err := dial(ctx, l.Addr())
	if err != nil {
		t.Fatalf("raw dial %s: %v", l.Addr(), err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	c, err := l.Accept(ctx)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return raw, c
}

func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func testLyingLength(t *testing.T, scheme string, dial RawDialer) {
	l := Listen(t, scheme, transport.Options{})
	raw, server := rawPair(t, l, dial)
	if _, err := raw.Write([]byte{0x40, 0, 0, 0, 'x'}); err != nil { // declares 1 GiB
		t.Fatal(err)
	}
	r := await(t, goRead(server), "ReadMessage")
	if !errors.Is(r.err, transport.ErrFrameTooLarge) {
		t.Fatalf("ReadMessage after a 1 GiB prefix = %v, want ErrFrameTooLarge", r.err)
	}
	for _, want := range []string{strconv.Itoa(1 << 30), strconv.Itoa(transport.DefaultMaxFrameSize)} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q does not mention %s", r.err, want)
		}
	}
	// The server dropped the connection: the raw side sees the end of the stream.
	_ = raw.SetReadDeadline(time.Now().Add(timeout))
	if _, err := raw.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("raw Read after the server dropped the connection = %v, want EOF or reset", err)
	}
	// The listener is unharmed.
	client, server2 := Connect(t, l, transport.Options{})
	echo(t, client, server2, []byte("next connection works"))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func threeFrames() ([][]byte, []byte) {
	msgs := [][]byte{[]byte(`{"type":"client-id","id":"x"}`), {}, pattern(300, 5)}
	var wire []byte
	for _, m := range msgs {
		wire = append(wire, frame(m)...)
	}
	return msgs, wire
}

func readAll(t *testing.T, c transport.Conn, want [][]byte) {
	t.Helper()
	for i, w := range want {
		r := await(t, goRead(c), "ReadMessage")
		if r.err != nil {
			t.Fatalf("ReadMessage %d: %v", i, r.err)
		}
		if !bytes.Equal(r.msg, w) {
			t.Fatalf("message %d = %q, want %q", i, r.msg, w)
		}
	}
}

func testByteByByte(t *testing.T, scheme string, dial RawDialer) {
	l := Listen(t, scheme, transport.Options{})
	raw, server := rawPair(t, l, dial)
	msgs, wire := threeFrames()
	done := make(chan error, 1)
	go func() {
		for i := range wire {
			if _, err := raw.Write(wire[i : i+1]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	readAll(t, server, msgs)
	if err := await(t, done, "raw writes"); err != nil {
		t.Fatal(err)
	}
}

func testThreeFramesOneWrite(t *testing.T, scheme string, dial RawDialer) {
	l := Listen(t, scheme, transport.Options{})
	raw, server := rawPair(t, l, dial)
	msgs, wire := threeFrames()
	if n, err := raw.Write(wire); err != nil || n != len(wire) {
		t.Fatalf("raw Write = %d, %v", n, err)
	}
	readAll(t, server, msgs)
	// The transport writes the same bytes.
	if err := server.WriteMessages(msgs...); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(wire))
	_ = raw.SetReadDeadline(time.Now().Add(timeout))
	if _, err := io.ReadFull(raw, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wire) {
		t.Fatalf("WriteMessages put % x on the wire, want % x", got, wire)
	}
}

func testBatchIsOneWrite(t *testing.T, scheme string, _ RawDialer) {
	client, server := Pair(t, scheme, transport.Options{})
	wc, ok := client.(transport.WriteCounter)
	if !ok {
		t.Fatalf("%T does not implement transport.WriteCounter", client)
	}
	for _, tc := range []struct {
		name  string
		sizes []int
	}{
		{"1000x16B", repeat(16, 1000)},
		{"small and large", []int{10, 64 << 10, 20, 200 << 10, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := make([][]byte, len(tc.sizes))
			for i, n := range tc.sizes {
				msgs[i] = pattern(n, byte(i))
			}
			before := wc.Writes()
			wrote := goWrite(client, msgs...)
			for i, want := range msgs {
				got, err := server.ReadMessage()
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("ReadMessage %d = %d bytes, %v; want %d bytes", i, len(got), err, len(want))
				}
			}
			if err := await(t, wrote, "WriteMessages"); err != nil {
				t.Fatal(err)
			}
			if n := wc.Writes() - before; n != 1 {
				t.Fatalf("WriteMessages of %d messages issued %d writes, want 1", len(msgs), n)
			}
		})
	}
}

func repeat(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func testTruncatedFrame(t *testing.T, scheme string, dial RawDialer) {
	l := Listen(t, scheme, transport.Options{})
	for _, tc := range []struct {
		name string
		wire []byte
	}{
		{"InHeader", []byte{0, 0}},
		{"InBody", append(frame([]byte("whole")), 0, 0, 0, 10, 'a', 'b', 'c')},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, server := rawPair(t, l, dial)
			if _, err := raw.Write(tc.wire); err != nil {
				t.Fatal(err)
			}
			_ = raw.Close()
			if tc.name == "InBody" {
				readAll(t, server, [][]byte{[]byte("whole")})
			}
			r := await(t, goRead(server), "ReadMessage")
			if !errors.Is(r.err, io.ErrUnexpectedEOF) {
				t.Fatalf("ReadMessage of a truncated frame = %v, want io.ErrUnexpectedEOF", r.err)
			}
		})
	}
}

// testAllocationBound declares a 16 MiB frame (legal under the default limit) with 10 bytes
// behind it: the reader must not allocate the declared size before the bytes arrive.
func testAllocationBound(t *testing.T, scheme string, dial RawDialer) {
	const declared, budget = transport.DefaultMaxFrameSize, 1 << 20
	l := Listen(t, scheme, transport.Options{})
	raw, server := rawPair(t, l, dial)
	wire := binary.BigEndian.AppendUint32(nil, declared)
	wire = append(wire, pattern(10, 1)...)
	if _, err := raw.Write(wire); err != nil {
		t.Fatal(err)
	}
	_ = raw.Close()
	time.Sleep(20 * time.Millisecond) // let the bytes and the end of stream arrive

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := server.ReadMessage()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadMessage = %v, want io.ErrUnexpectedEOF", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > budget {
		t.Fatalf("reading a %d-byte declaration with 10 bytes behind it allocated %d bytes, want at most %d", declared, n, budget)
	} else {
		t.Logf("allocated %d bytes for a %d-byte declaration with 10 bytes behind it", n, declared)
	}
}
