package netron_test

import (
	"encoding/binary"
	"testing"
	"time"
)

// A Go peer announcing a stream window past what an int32 holds gets the
// largest window, not a truncated one (4294967296 would be 0: the streams
// produced for it would never send an item).
func TestAcceptanceHugeStreamWindowAnnounced(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	c := dialRaw(t, s.addr)
	c.serverID()
	c.write([]byte(`{"type":"client-id","id":"w","titan":{"v":1,"window":4294967296}}`))
	p := binary.BigEndian.AppendUint32(nil, 9)
	p = append(p, 0x43, 0x93, 0xb0)
	p = append(p, "calculator@1.0.0"...)
	p = append(p, 0xa5, 'c', 'o', 'u', 'n', 't', 3)
	c.write(p)
	ref := c.read() // the stream reference
	if len(ref) < 5 || ref[4]&0x0f != 0x03 {
		t.Fatalf("answer %q, want the stream reference", ref)
	}
	if item, err := c.readFrame(2 * time.Second); err != nil {
		t.Fatalf("no stream item after the reference: %v", err)
	} else if item[4]&0x0f != 0x05 {
		t.Fatalf("frame %q after the reference, want a stream item", item)
	}
}
