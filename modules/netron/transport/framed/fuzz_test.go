package framed_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
)

const fuzzLimit = 1 << 10

// FuzzReadMessages feeds arbitrary bytes to the frame reader and compares what it yields with a
// direct reading of the format: the same messages, then the same kind of error.
func FuzzReadMessages(f *testing.F) {
	f.Add([]byte{})
	f.Add(frame([]byte("hello")))
	f.Add(append(append(frame(nil), frame([]byte(`{"type":"id"}`))...), frame(fill(300, 1))...))
	f.Add([]byte{0, 0, 4, 1, 0})          // above the limit
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}) // 4 GiB
	f.Add([]byte{0, 0, 0, 9, 'a'})        // truncated body
	f.Add([]byte{0, 0})                   // truncated header
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := reference(data)
		c := framed.NewConn(&streamConn{r: bytes.NewReader(data), w: io.Discard}, framed.Config{MaxFrameSize: fuzzLimit})
		for i := 0; ; i++ {
			m, err := c.ReadMessage()
			if err != nil {
				if i != len(want) {
					t.Fatalf("error %v after %d messages, want %d messages", err, i, len(want))
				}
				if !errors.Is(err, wantErr) {
					t.Fatalf("error %v, want %v", err, wantErr)
				}
				return
			}
			if i >= len(want) || !bytes.Equal(m, want[i]) {
				t.Fatalf("message %d = %x, not what the input holds", i, m)
			}
			if len(m) > fuzzLimit {
				t.Fatalf("message %d has %d bytes, above the limit", i, len(m))
			}
		}
	})
}

// reference splits data into frames the simple way.
func reference(data []byte) ([][]byte, error) {
	var msgs [][]byte
	for {
		switch {
		case len(data) == 0:
			return msgs, io.EOF
		case len(data) < 4:
			return msgs, io.ErrUnexpectedEOF
		}
		n := binary.BigEndian.Uint32(data)
		if n > fuzzLimit {
			return msgs, transport.ErrFrameTooLarge
		}
		if uint64(len(data)-4) < uint64(n) {
			return msgs, io.ErrUnexpectedEOF
		}
		msgs = append(msgs, data[4:4+n])
		data = data[4+n:]
	}
}
