package netron_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"iter"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Payloads is a service of large, compressible values.
type Payloads struct{}

func (Payloads) Echo(_ context.Context, b []byte) ([]byte, error) { return b, nil }

func (Payloads) Text(_ context.Context, n int) (string, error) { return compressibleText(n), nil }

func (Payloads) Chunks(_ context.Context, n, size int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for range n {
			if !yield(compressibleText(size), nil) {
				return
			}
		}
	}
}

func compressibleText(n int) string {
	return strings.Repeat("netron moves titan's calls; ", n/28+1)[:n]
}

// countingProxy forwards TCP connections to target and counts the bytes
// that cross it each way, on the sockets.
type countingProxy struct {
	ln       net.Listener
	up, down atomic.Int64
	wg       sync.WaitGroup
}

func startCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln}
	target = strings.TrimPrefix(target, "tcp://")
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.wg.Add(2)
			go p.pipe(s, c, &p.up)
			go p.pipe(c, s, &p.down)
		}
	}()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *countingProxy) pipe(dst, src net.Conn, n *atomic.Int64) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 64<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			n.Add(int64(k))
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *countingProxy) addr() string { return "tcp://" + p.ln.Addr().String() }

// serveBlob serves blob@1.0.0 over tcp with cfg.
func serveBlob(t *testing.T, cfg netron.Config) *netron.Netron {
	t.Helper()
	n, err := netron.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("blob", "1.0.0", Payloads{}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Listen(context.Background(), "tcp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	return n
}

func compressed(alg string) netron.Config {
	return netron.Config{Compression: netron.CompressionConfig{Algorithm: alg}}
}

// A 1 MiB compressible payload crosses tcp between Go peers in fewer
// bytes, counted on the socket, each way, with either algorithm; each side
// compresses only what it sends.
func TestCompressionBetweenGoPeers(t *testing.T) {
	t.Parallel()
	payload := []byte(compressibleText(1 << 20))
	cases := []struct {
		name           string
		server, client string
		smallUp        bool // the 1 MiB argument crosses compressed
		smallDown      bool // and the 1 MiB result
	}{
		{"none", "none", "none", false, false},
		{"s2", "s2", "s2", true, true},
		{"zstd", "zstd", "zstd", true, true},
		{"client only", "none", "zstd", true, false},
		{"server only", "s2", "none", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := serveBlob(t, compressed(tc.server))
			px := startCountingProxy(t, n.Addrs()[0])
			peer := dialWith(t, px.addr(), compressed(tc.client))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			up0, down0 := px.up.Load(), px.down.Load()
			got, err := netron.CallUnary[[]byte](ctx, peer, "blob@1.0.0", "echo", payload)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("echo returned %d bytes that differ from the %d sent", len(got), len(payload))
			}
			// The answer has been read, so its bytes crossed the proxy.
			up, down := px.up.Load()-up0, px.down.Load()-down0
			t.Logf("server %s, client %s: %d bytes up, %d down for a 1 MiB argument and result", tc.server, tc.client, up, down)
			check := func(dir string, n int64, small bool) {
				switch {
				case small && n >= int64(len(payload))/4:
					t.Errorf("%s: %d bytes for 1 MiB of text, want it compressed (under 256 KiB)", dir, n)
				case !small && n < int64(len(payload)):
					t.Errorf("%s: %d bytes for 1 MiB, want it uncompressed", dir, n)
				}
			}
			check("client to server", up, tc.smallUp)
			check("server to client", down, tc.smallDown)

			// Stream items are compressed too.
			down0 = px.down.Load()
			items := 0
			for s, err := range netron.CallStream[string](ctx, peer, "blob@1.0.0", "chunks", 16, 64<<10) {
				if err != nil {
					t.Fatal(err)
				}
				if s != compressibleText(64<<10) {
					t.Fatalf("item %d changed in transit", items)
				}
				items++
			}
			if items != 16 {
				t.Fatalf("%d items, want 16", items)
			}
			check("stream of 1 MiB", px.down.Load()-down0, tc.smallDown)
		})
	}
}

// A peer without the extension (a TypeScript peer, written by hand here)
// gets plain packets from a server that compresses for Go peers.
func TestCompressionNotSentToPlainPeers(t *testing.T) {
	t.Parallel()
	n := serveBlob(t, compressed("zstd"))
	c := dialRaw(t, n.Addrs()[0])
	id := c.serverID()
	if x, _ := id["titan"].(map[string]any); x == nil || x["z"] == nil {
		t.Errorf("the server's id message %v announces no compression", id)
	}
	c.clientID("ts-peer")
	call, err := protocol.AppendPacket(nil, &protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true,
		Data: []any{"blob@1.0.0", "text", 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	c.write(call)
	msg := c.read()
	pkt, err := protocol.DecodePacket(msg, protocol.Limits{MaxFrameSize: 4 << 20})
	if err != nil {
		t.Fatalf("answer of %d bytes is not a plain packet: %v", len(msg), err)
	}
	if pkt.ID != 1 || pkt.Error || len(msg) < 1<<20 {
		t.Fatalf("answer: id %d, error %v, %d bytes; want id 1, the 1 MiB text uncompressed", pkt.ID, pkt.Error, len(msg))
	}
	if s, _ := pkt.Data.(string); s != compressibleText(1<<20) {
		t.Fatalf("answer data is not the text (%T)", pkt.Data)
	}
}

// A forged envelope is dropped with a log record, and the connection and
// the server keep serving: from a Go peer (a bad length, unknown
// algorithm, garbage, a bomb declaring more than the frame limit) and from
// a plain peer, to which an envelope is only a malformed packet.
func TestCompressionForgedEnvelopes(t *testing.T) {
	t.Parallel()
	log, records := captureLogger()
	n, err := netron.New(netron.Config{MaxFrameSize: 1 << 20}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("blob", "1.0.0", Payloads{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })

	textCall := func(id uint32) []byte {
		b, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: id, Type: protocol.TypeCall, Impulse: true,
			Data: []any{"blob@1.0.0", "text", 8}})
		return b
	}
	forged := [][]byte{
		{0, 0, 0, 9, 0x08, 2, 1, 2, 3},                                  // s2 that is not s2
		{0, 0, 0, 9, 0x08, 7, 1, 2, 3},                                  // an unknown algorithm
		{0, 0x40, 0, 0, 0x08, 1, 0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0, 0}, // a zstd bomb declaring 4 MiB
		{0, 0, 0, 3, 0x08},                                              // short
	}
	// One connection per envelope: a connection logs its first malformed
	// message and counts the rest.
	for _, plain := range []bool{false, true} {
		for i, f := range forged {
			c := dialRaw(t, addr)
			c.serverID()
			if plain {
				c.clientID("plain")
			} else {
				b, _ := json.Marshal(map[string]any{"type": "client-id", "id": "go", "titan": map[string]any{"v": 1, "window": 16, "z": []string{"s2"}}})
				c.write(b)
			}
			c.write(f)
			c.write(textCall(5))
			msg := c.read()
			pkt, err := protocol.DecodePacket(msg, protocol.Limits{})
			if err != nil || pkt.ID != 5 || pkt.Error {
				t.Fatalf("plain %v, envelope %d: the next call's answer is %x (%v)", plain, i, msg, err)
			}
			if s, _ := pkt.Data.(string); s != compressibleText(8) {
				t.Fatalf("plain %v, envelope %d: answer %v", plain, i, pkt.Data)
			}
		}
	}
	for _, want := range []string{"(s2): s2 data", "unknown algorithm 7", "over the frame limit", "shorter than its 6-byte header"} {
		records.waitFor(t, "malformed compressed message", want)
	}
	records.waitFor(t, "dropped a malformed packet", "packet type 8")
}

// Connecting by bytes: a peer that lists no algorithm gets nothing
// compressed even from a side configured to compress.
func TestCompressionNeedsTheReceiversWord(t *testing.T) {
	t.Parallel()
	n := serveBlob(t, compressed("s2"))
	px := startCountingProxy(t, n.Addrs()[0])
	nc, err := net.Dial("tcp", strings.TrimPrefix(px.addr(), "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	readFrame := func() []byte {
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		var hdr [4]byte
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(nc, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(b []byte) {
		nc.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...))
	}
	readFrame()
	// The extension, without "z".
	write([]byte(`{"type":"client-id","id":"old-go","titan":{"v":1,"window":16}}`))
	call, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true,
		Data: []any{"blob@1.0.0", "text", 256 << 10}})
	write(call)
	if msg := readFrame(); len(msg) < 256<<10 || msg[4] == 0x08 {
		t.Fatalf("answer of %d bytes, flags %#x: want the plain packet", len(msg), msg[4])
	}
}

// A bad compression setting is refused naming the key.
func TestCompressionConfigErrors(t *testing.T) {
	t.Parallel()
	for cfg, want := range map[netron.CompressionConfig]string{
		{Algorithm: "gzip"}: `netron.compression.algorithm: unknown compression algorithm "gzip" (want none, s2 or zstd)`,
		{MinSize: -1}:       "netron.compression.minSize is -1",
	} {
		_, err := netron.New(netron.Config{Compression: cfg}, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: err = %v, want %q", cfg, err, want)
		}
	}
}
