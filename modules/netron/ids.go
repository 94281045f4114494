package netron

import "sync/atomic"

// Packet and stream ids come from process-global counters, as in the
// original (NETRON-WIRE.md §2.7): the first id is 1, and after 0xFFFFFFFF
// the next is 1 again; 0 is never handed out.
var (
	packetIDs atomic.Uint32
	streamIDs atomic.Uint32
)

func nextID(c *atomic.Uint32) uint32 {
	for {
		if id := c.Add(1); id != 0 {
			return id
		}
	}
}

func nextPacketID() uint32 { return nextID(&packetIDs) }
func nextStreamID() uint32 { return nextID(&streamIDs) }
