package tlsrecord_test

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"testing"

	"github.com/titanframework/titan/modules/netron/transport/internal/tlsrecord"
)

// chunkConn is a socket whose reads return its chunks one by one.
type chunkConn struct {
	net.Conn // nil: only Read is used
	chunks   [][]byte
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

// watcher notes what a Conn tells it.
type watcher struct {
	pending []int
	arrived int
}

func (w *watcher) Reading(pending int) { w.pending = append(w.pending, pending) }
func (w *watcher) Arrived(n int)       { w.arrived += n }

// record returns a TLS record header and a body of n bytes.
func record(n int) []byte {
	r := binary.BigEndian.AppendUint16([]byte{0x17, 0x03, 0x03}, uint16(n))
	return append(r, bytes.Repeat([]byte{0xaa}, n)...)
}

// pendingAt returns the bytes of the record not yet complete after the first k bytes of wire,
// walking its records one by one.
func pendingAt(wire []byte, k int) int {
	off := 0
	for {
		if k-off < 5 {
			return k - off
		}
		end := off + 5 + int(binary.BigEndian.Uint16(wire[off+3:]))
		if k < end {
			return k - off
		}
		off = end
	}
}

// readChunks reads wire through a Conn in chunks of the given sizes (cycled) and returns what
// the watcher was told before each read but the first, with the Conn's Pending at the end.
func readChunks(t *testing.T, wire []byte, sizes []int) (*watcher, *tlsrecord.Conn, []int) {
	t.Helper()
	var chunks [][]byte
	var ends []int
	for off, i := 0, 0; off < len(wire); i++ {
		n := min(max(sizes[i%len(sizes)], 1), len(wire)-off)
		chunks = append(chunks, wire[off:off+n])
		off += n
		ends = append(ends, off)
	}
	c := tlsrecord.New(&chunkConn{chunks: chunks})
	w := &watcher{}
	c.Watch(w)
	buf := make([]byte, len(wire)+1)
	for range chunks {
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	return w, c, ends
}

// TestPendingFollowsRecords: read in pieces of every size from 1 to 9 bytes and in one piece,
// records of 0, 1, 300 and 16,401 bytes are followed: before each read the watcher is told the
// bytes of the record read so far, and every byte read is counted once.
func TestPendingFollowsRecords(t *testing.T) {
	var wire []byte
	for _, n := range []int{0, 1, 300, 16401, 0} {
		wire = append(wire, record(n)...)
	}
	for size := range 10 {
		if size == 0 {
			size = len(wire)
		}
		w, c, ends := readChunks(t, wire, []int{size})
		for i, p := range w.pending {
			want := 0
			if i > 0 {
				want = pendingAt(wire, ends[i-1])
			}
			if p != want {
				t.Fatalf("pieces of %d: read %d told %d pending bytes, want %d", size, i, p, want)
			}
		}
		if w.arrived != len(wire) || c.Pending() != 0 || c.Stalled() != "" {
			t.Fatalf("pieces of %d: %d of %d bytes arrived, %d pending at the end (%q)", size, w.arrived, len(wire), c.Pending(), c.Stalled())
		}
	}
}

func TestStalled(t *testing.T) {
	for _, tc := range []struct {
		wire []byte
		want string
	}{
		{record(100)[:3], "a TLS record stopped at 3 of the 5 bytes of its header"},
		{record(100)[:5], "a TLS record stopped at 5 of its 105 bytes"},
		{append(record(10), record(100)[:60]...), "a TLS record stopped at 60 of its 105 bytes"},
		{record(100), ""},
	} {
		_, c, _ := readChunks(t, tc.wire, []int{len(tc.wire)})
		if got := c.Stalled(); got != tc.want {
			t.Errorf("Stalled() after %d bytes = %q, want %q", len(tc.wire), got, tc.want)
		}
	}
}

// TestOf: Of finds the Conn under a *tls.Conn made over one, and nothing elsewhere.
func TestOf(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	rc := tlsrecord.New(a)
	if got := tlsrecord.Of(tls.Server(rc, &tls.Config{})); got != rc {
		t.Fatalf("Of(tls.Server(New(c))) = %p, want %p", got, rc)
	}
	if tlsrecord.Of(tls.Server(a, &tls.Config{})) != nil || tlsrecord.Of(a) != nil || tlsrecord.Of(rc) != nil {
		t.Fatal("Of found a Conn where there is none")
	}
}

// FuzzPending holds the Conn's following of records, read in pieces of any sizes, to the
// plain walk of pendingAt.
func FuzzPending(f *testing.F) {
	f.Add(append(record(3), record(0)...), []byte{1, 2, 3})
	f.Add(record(40), []byte{5})
	f.Add([]byte{0x17, 0x03, 0x03, 0xff, 0xff, 1, 2}, []byte{4, 1})
	f.Fuzz(func(t *testing.T, wire, sizes []byte) {
		if len(wire) == 0 || len(sizes) == 0 {
			return
		}
		ss := make([]int, len(sizes))
		for i, s := range sizes {
			ss[i] = int(s)
		}
		w, c, ends := readChunks(t, wire, ss)
		for i := 1; i < len(w.pending); i++ {
			if want := pendingAt(wire, ends[i-1]); w.pending[i] != want {
				t.Fatalf("read %d told %d pending bytes, want %d", i, w.pending[i], want)
			}
		}
		if want := pendingAt(wire, len(wire)); c.Pending() != want || w.arrived != len(wire) {
			t.Fatalf("at the end: %d pending, want %d; %d of %d bytes arrived", c.Pending(), want, w.arrived, len(wire))
		}
	})
}
