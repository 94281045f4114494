package framed_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// fill returns n bytes that differ with seed: 251 (a prime) computed bytes, then copies,
// which keeps multi-MiB messages cheap under the race detector.
func fill(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range min(n, 251) {
		b[i] = byte(i*13) ^ seed
	}
	for done := min(n, 251); done < n; done *= 2 {
		copy(b[done:], b[:done])
	}
	return b
}

func TestFormatAddr(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7070}, "tcp://127.0.0.1:7070"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 1}, "tcp://[::1]:1"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 7070, Zone: "eth0"}, "tcp://[fe80::1%25eth0]:7070"},
		{&net.UnixAddr{Name: "/run/app.sock", Net: "unix"}, "unix:///run/app.sock"},
		{&net.UnixAddr{Name: "/tmp/a b%.sock", Net: "unix"}, "unix:///tmp/a%20b%25.sock"},
		{&net.UnixAddr{Name: "rel.sock", Net: "unix"}, "unix:rel.sock"},
		{&net.UnixAddr{Name: "", Net: "unix"}, "unix:"},
		{(*net.UnixAddr)(nil), "unix:"},
		{(*net.TCPAddr)(nil), "tcp:"},
		{nil, ""},
		{fakeAddr("x"), "fake://x"},
	}
	for _, tt := range tests {
		if got := framed.FormatAddr(tt.addr); got != tt.want {
			t.Errorf("FormatAddr(%v) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

// TestLargeFrameOverPipe sends a frame several times the growth step through net.Pipe, which
// hands the reader one write at a time.
func TestLargeFrameOverPipe(t *testing.T) {
	a, b := net.Pipe()
	ca, cb := framed.NewConn(a, framed.Config{}), framed.NewConn(b, framed.Config{})
	defer ca.Close()
	defer cb.Close()
	msgs := [][]byte{fill(3<<20+7, 1), fill(10, 2), fill(2<<20, 3), {}}
	done := make(chan error, 1)
	go func() { done <- ca.WriteMessages(msgs...) }()
	for i, want := range msgs {
		got, err := cb.ReadMessage()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("message %d: %d bytes, %v; want %d bytes", i, len(got), err, len(want))
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestByteByByteOverPipe feeds three frames one byte per write.
func TestByteByByteOverPipe(t *testing.T) {
	a, b := net.Pipe()
	c := framed.NewConn(b, framed.Config{})
	defer c.Close()
	msgs := [][]byte{[]byte("{}"), {}, fill(3000, 4)}
	var wire []byte
	for _, m := range msgs {
		wire = append(wire, frame(m)...)
	}
	done := make(chan error, 1)
	go func() {
		defer a.Close()
		for i := range wire {
			if _, err := a.Write(wire[i : i+1]); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i, want := range msgs {
		got, err := c.ReadMessage()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("message %d: %q, %v", i, got, err)
		}
	}
	if _, err := c.ReadMessage(); err != io.EOF {
		t.Fatalf("ReadMessage at the end = %v, want io.EOF", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestErrorsAreSticky(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
		want error
	}{
		{"EOF", frame([]byte("a")), io.EOF},
		{"TruncatedHeader", append(frame([]byte("a")), 0, 0), io.ErrUnexpectedEOF},
		{"TruncatedBody", append(frame([]byte("a")), 0, 0, 0, 9, 1, 2, 3), io.ErrUnexpectedEOF},
		{"TooLarge", append(frame([]byte("a")), 0, 0, 4, 1), transport.ErrFrameTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := framed.NewConn(&streamConn{r: bytes.NewReader(tc.wire), w: io.Discard}, framed.Config{MaxFrameSize: 1024})
			if m, err := c.ReadMessage(); err != nil || string(m) != "a" {
				t.Fatalf("first ReadMessage = %q, %v", m, err)
			}
			for range 2 {
				if _, err := c.ReadMessage(); !errors.Is(err, tc.want) {
					t.Fatalf("ReadMessage = %v, want %v", err, tc.want)
				}
			}
		})
	}
}

func TestTruncatedBodyNamesProgress(t *testing.T) {
	wire := []byte{0, 0, 0, 10, 1, 2, 3}
	c := framed.NewConn(&streamConn{r: bytes.NewReader(wire), w: io.Discard}, framed.Config{})
	_, err := c.ReadMessage()
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "3 of 10") {
		t.Fatalf("ReadMessage = %v, want io.ErrUnexpectedEOF naming 3 of 10 bytes", err)
	}
}

func TestTooLargeClosesConn(t *testing.T) {
	sc := &streamConn{r: bytes.NewReader([]byte{0, 0, 4, 1}), w: io.Discard}
	c := framed.NewConn(sc, framed.Config{MaxFrameSize: 1024})
	_, err := c.ReadMessage()
	if !errors.Is(err, transport.ErrFrameTooLarge) || !strings.Contains(err.Error(), "1025") || !strings.Contains(err.Error(), "1024") {
		t.Fatalf("ReadMessage = %v, want ErrFrameTooLarge naming 1025 and 1024", err)
	}
	if !sc.closed {
		t.Fatal("the connection was not closed")
	}
	if err := c.WriteMessages([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteMessages after the drop = %v, want net.ErrClosed", err)
	}
}

// TestSteadyStateReadDoesNotAllocate checks that the frame buffer is reused between reads.
func TestSteadyStateReadDoesNotAllocate(t *testing.T) {
	for _, size := range []int{32, 4 << 10, 200 << 10} {
		c := framed.NewConn(&streamConn{r: &repeatReader{data: frame(fill(size, 1))}, w: io.Discard}, framed.Config{})
		if _, err := c.ReadMessage(); err != nil { // the first read sizes the buffer
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if m, err := c.ReadMessage(); err != nil || len(m) != size {
				t.Fatalf("ReadMessage = %d bytes, %v", len(m), err)
			}
		})
		if allocs != 0 {
			t.Errorf("ReadMessage of %d-byte frames: %v allocations per call, want 0", size, allocs)
		}
	}
}

// TestLargeBufferIsReleased checks that one large frame does not pin its buffer while small
// frames follow.
func TestLargeBufferIsReleased(t *testing.T) {
	wire := append(frame(fill(8<<20, 1)), frame([]byte("small"))...)
	c := framed.NewConn(&streamConn{r: bytes.NewReader(wire), w: io.Discard}, framed.Config{})
	if m, err := c.ReadMessage(); err != nil || len(m) != 8<<20 {
		t.Fatalf("ReadMessage = %d bytes, %v", len(m), err)
	}
	m, err := c.ReadMessage()
	if err != nil || string(m) != "small" {
		t.Fatalf("ReadMessage = %q, %v", m, err)
	}
	if cap(m) > 1<<20 {
		t.Fatalf("a 5-byte frame came in a buffer of capacity %d: the 8 MiB buffer was kept", cap(m))
	}
	if held := framed.BufferHeld(c); held > 1<<20 {
		t.Fatalf("after a 5-byte frame the connection still holds a buffer of %d bytes", held)
	}
}

func TestWriteSteadyStateDoesNotAllocate(t *testing.T) {
	c := framed.NewConn(&streamConn{r: bytes.NewReader(nil), w: io.Discard}, framed.Config{})
	msgs := [][]byte{fill(32, 1), fill(4<<10, 2), fill(64<<10, 3), fill(5, 4)}
	if err := c.WriteMessages(msgs...); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if err := c.WriteMessages(msgs...); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("WriteMessages: %v allocations per call, want 0", allocs)
	}
}

// TestWriteWireFormat checks the exact bytes and the write count of a batch on a connection
// without vectored writes: the small messages are packed, large bodies go out in place.
func TestWriteWireFormat(t *testing.T) {
	tests := []struct {
		name   string
		sizes  []int
		writes int
	}{
		{"Small", []int{0, 1, 100, 8 << 10}, 1},
		{"LargeInMiddle", []int{3, 8<<10 + 1, 4}, 3},
		{"LargeLast", []int{3, 100 << 10}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &countingWriter{}
			c := framed.NewConn(&streamConn{r: bytes.NewReader(nil), w: w}, framed.Config{})
			var msgs [][]byte
			var want []byte
			for i, n := range tt.sizes {
				m := fill(n, byte(i))
				msgs = append(msgs, m)
				want = append(want, frame(m)...)
			}
			if err := c.WriteMessages(msgs...); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(w.buf, want) {
				t.Fatalf("wrote %d bytes, want %d bytes of frames", len(w.buf), len(want))
			}
			if w.calls != tt.writes || c.Writes() != uint64(tt.writes) {
				t.Fatalf("Write calls = %d, Writes() = %d; want %d", w.calls, c.Writes(), tt.writes)
			}
		})
	}
}

func TestWriteLimit(t *testing.T) {
	w := &countingWriter{}
	c := framed.NewConn(&streamConn{r: bytes.NewReader(nil), w: w}, framed.Config{MaxFrameSize: 100})
	err := c.WriteMessages(fill(10, 1), fill(101, 2))
	if !errors.Is(err, transport.ErrFrameTooLarge) || !strings.Contains(err.Error(), "message 2 of 2") {
		t.Fatalf("WriteMessages = %v, want ErrFrameTooLarge naming message 2 of 2", err)
	}
	if w.calls != 0 {
		t.Fatalf("%d writes after a refused batch, want 0", w.calls)
	}
	if err := c.WriteMessages(fill(100, 3)); err != nil {
		t.Fatalf("WriteMessages at the limit: %v", err)
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestWriteErrorClosesConn(t *testing.T) {
	sc := &streamConn{r: bytes.NewReader(nil), w: failingWriter{}}
	c := framed.NewConn(sc, framed.Config{})
	if err := c.WriteMessages([]byte("x")); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("WriteMessages = %v, want the write error", err)
	}
	if !sc.closed {
		t.Fatal("a failed write left the connection open")
	}
}

// TestLyingLengthAllocation declares 16 MiB with 10 bytes behind it.
func TestLyingLengthAllocation(t *testing.T) {
	wire := append(binary.BigEndian.AppendUint32(nil, transport.DefaultMaxFrameSize), fill(10, 1)...)
	c := framed.NewConn(&streamConn{r: bytes.NewReader(wire), w: io.Discard}, framed.Config{})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.ReadMessage()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadMessage = %v, want io.ErrUnexpectedEOF", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("allocated %d bytes for 10 bytes of a declared 16 MiB frame, want at most 1 MiB", n)
	}
}

// chunkConn is a net.Conn whose reads return its chunks one by one and which counts the
// read deadlines set on it.
type chunkConn struct {
	streamConn
	chunks    [][]byte
	deadlines []time.Time
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *chunkConn) SetReadDeadline(t time.Time) error {
	c.deadlines = append(c.deadlines, t)
	return nil
}

// TestFrameDeadlineOnlyForSplitFrames: with a frame timeout, frames that arrive whole cost no
// deadline and no allocation; a frame split across reads sets its deadline once and clears it
// when complete.
func TestFrameDeadlineOnlyForSplitFrames(t *testing.T) {
	var whole []byte
	for i := range 100 {
		whole = append(whole, frame(fill(40, byte(i)))...)
	}
	split := frame(fill(1000, 7))
	c := &chunkConn{chunks: [][]byte{whole, split[:300], split[300:]}}
	fc := framed.NewConn(c, framed.Config{Limits: transport.Limits{FrameTimeout: time.Minute}})
	if _, err := fc.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(98, func() { // 99 calls: the other whole frames
		if m, err := fc.ReadMessage(); err != nil || len(m) != 40 {
			t.Fatalf("ReadMessage = %d bytes, %v", len(m), err)
		}
	})
	if allocs != 0 || len(c.deadlines) != 0 {
		t.Fatalf("whole frames: %v allocations per read and %d deadlines set, want none", allocs, len(c.deadlines))
	}
	if m, err := fc.ReadMessage(); err != nil || !bytes.Equal(m, fill(1000, 7)) {
		t.Fatalf("split frame: %d bytes, %v", len(m), err)
	}
	if len(c.deadlines) != 2 || c.deadlines[0].IsZero() || !c.deadlines[1].IsZero() {
		t.Fatalf("split frame: deadlines %v, want one set and then cleared", c.deadlines)
	}
}
