package netron_test

import (
	"encoding/binary"
	"testing"
	"time"
)

// callSlow is the CALL packet ["calculator@1.0.0","slow",d] with the given id.
func callSlow(id uint32, d time.Duration) []byte {
	p := binary.BigEndian.AppendUint32(nil, id)
	p = append(p, 0x43, 0x93, 0xb0)
	p = append(p, "calculator@1.0.0"...)
	p = append(p, 0xa4, 's', 'l', 'o', 'w')
	ds := d.String() // a duration travels as its text
	return append(append(p, 0xa0|byte(len(ds))), ds...)
}

// A peer that reuses a request id while the first call with it runs, then
// hangs up: the end of the connection cancels both calls, not only the
// last one filed under the id.
func TestAcceptanceReusedRequestIDCancelledWithConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	c := dialRaw(t, s.addr)
	c.handshake("dup")
	c.write(callSlow(7, 10*time.Second))
	c.write(callSlow(7, 10*time.Second))
	deadline := time.Now().Add(5 * time.Second)
	for s.calc.slowRunning.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := s.calc.slowRunning.Load(); n != 2 {
		t.Fatalf("%d calls run, want 2", n)
	}
	c.nc.Close()
	for time.Now().Before(deadline) {
		if len(s.n.Peers()) == 0 && s.calc.slowRunning.Load() == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d calls still run after their connection ended (peers: %d)", s.calc.slowRunning.Load(), len(s.n.Peers()))
}
