package netron

import (
	"encoding/json"
	"fmt"

	"github.com/titanframework/titan/modules/netron/internal/compress"
)

// extVersion is the version of Titan's Go-to-Go protocol extension.
//
// The extension is negotiated in the handshake: each side adds
// "titan":{"v":1,"window":N,"windowBytes":B,"z":["zstd","s2"]} to its id / client-id message, which
// TypeScript peers ignore. When both sides announced it, the connection
// also uses (see doc.go, "Go-to-Go extension"):
//
//   - call headers: a CALL request with the live bit (0x63 instead of 0x43)
//     carries a map after the method name, before the arguments:
//     {"t": timeout in ms, "m": {metadata}};
//   - call cancel: a CALL packet with impulse and error bits (0xC3), the id
//     of the call to cancel and a nil payload; never answered;
//   - stream credit: a STREAM packet with impulse 0 sent by the receiver,
//     payload the number of further items it accepts, trailer the stream id;
//     the items granted are the oldest unread ones, whose bytes the sender
//     no longer counts against "windowBytes" (absent: no byte window). A
//     receiver grants once it has read half of either window;
//   - stream cancel: a STREAM_CLOSE packet with impulse 0 sent by the
//     receiver, payload {streamId, reason};
//   - compression: a message may be an envelope (flags 0x08) holding
//     another compressed with an algorithm the receiver listed in "z"
//     (package compress).
const extVersion = 1

// A handshake message is a few dozen bytes (DESIGN.md: under 512); one
// longer than handshakeSlack plus Config.MaxPeerIDBytes is refused before
// it is parsed, and an id longer than Config.MaxPeerIDBytes (a UUID has 36
// bytes) is not kept.
const handshakeSlack = 4 << 10

// handshake is the JSON id / client-id message (NETRON-WIRE.md §4.1).
type handshake struct {
	Type  string   `json:"type"`
	ID    string   `json:"id"`
	Titan *extInfo `json:"titan,omitempty"`
}

type extInfo struct {
	V      int `json:"v"`
	Window int `json:"window"`
	// WindowBytes is the bytes of one stream's items the side lets a
	// sender have in flight; absent (an earlier Go peer), none.
	WindowBytes int64 `json:"windowBytes,omitempty"`
	// Z lists the compression algorithms the side decodes (package
	// compress); absent, it decodes none.
	Z []string `json:"z,omitempty"`
}

func (n *Netron) handshakeMessage(typ string) []byte {
	b, _ := json.Marshal(handshake{Type: typ, ID: n.id, Titan: &extInfo{V: extVersion, Window: n.cfg.StreamWindow, WindowBytes: n.streamWindowBytes(), Z: compress.Names}})
	return b
}

// streamWindowBytes is the byte window this side announces for the
// streams it reads: Config.StreamWindowBytes, at most half of
// Config.MaxStreamBytesPerPeer (so that one stream, with the one item that
// may pass its window, stays under the bound), at least one byte.
func (n *Netron) streamWindowBytes() int64 {
	return max(1, min(n.cfg.StreamWindowBytes, n.cfg.MaxStreamBytesPerPeer/2))
}

// maxPeerWindow is the largest stream window taken from a peer's
// handshake, the most Config.StreamWindow may be: a producer keeps the
// cost of each item sent and not granted back (session.Credit), at most
// the window's first items, so a peer that announced a larger window and
// never granted would make it keep 8 bytes per item sent, for up to 2^31
// items on each stream. The byte window needs no cap: what it counts
// are the costs of at most this many items.
const maxPeerWindow = 65536

// negotiated turns the extension on for c once the peer's handshake
// announced it: its stream window (at most maxPeerWindow), envelopes
// decoded from it, and this side's compression when the peer decodes the
// algorithm. It runs before the reader starts or on the reader's
// goroutine.
func (c *conn) negotiated(x *extInfo) {
	if x == nil || x.V < 1 {
		return
	}
	if x.Window > 0 {
		c.window.Store(int32(min(x.Window, maxPeerWindow)))
	}
	if x.WindowBytes > 0 {
		c.windowBytes.Store(x.WindowBytes)
	}
	n := c.p.n
	c.rd.SetInflate(n.codec)
	if n.zalg.Accepts(x.Z) {
		c.q.SetDeflate(n.codec, n.zalg, n.cfg.Compression.MinSize)
	}
	c.ext.Store(true)
}

// parseHandshake reads a JSON handshake message; ok is false when msg is
// not one.
func parseHandshake(msg []byte, maxID int) (handshake, error) {
	var h handshake
	if limit := handshakeSlack + maxID; len(msg) > limit {
		return h, fmt.Errorf("text message of %d bytes is longer than a handshake message may be (%d)", len(msg), limit)
	}
	if err := json.Unmarshal(msg, &h); err != nil {
		return h, fmt.Errorf("not a handshake message: %w", err)
	}
	if h.Type != "id" && h.Type != "client-id" {
		return h, fmt.Errorf("handshake message of unknown type %.64q", h.Type)
	}
	if len(h.ID) > maxID {
		return h, fmt.Errorf("peer id of %d bytes is longer than the limit of %d (netron.maxPeerIDBytes)", len(h.ID), maxID)
	}
	return h, nil
}
