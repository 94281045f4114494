package netron_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// waitPeerID waits until the server has a peer that announced id.
func waitPeerID(t *testing.T, n *netron.Netron, id string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		for _, p := range n.Peers() {
			if p.ID() == id {
				return
			}
		}
		if time.Now().After(deadline) {
			var ids []string
			for _, p := range n.Peers() {
				ids = append(ids, p.ID())
			}
			t.Fatalf("no server peer announced id %q (peers: %q)", id, ids)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Criterion 10: a client written by hand over TCP.
func TestAcceptanceRawHandshake(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{ID: "srv-1"}, nil)
	want := []byte{0, 0, 0, 1, 0x03, 0x03} // id 1, CALL response, payload 3

	t.Run("in order", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		h := c.serverID()
		if h["id"] != "srv-1" {
			t.Fatalf("id message %v: want id srv-1", h)
		}
		c.clientID("x")
		c.write(callAdd(1, 1, 2))
		if got := c.read(); !bytes.Equal(got, want) {
			t.Fatalf("answer % x, want % x", got, want)
		}
		waitPeerID(t, s.n, "x")
	})

	t.Run("call before client-id", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.serverID()
		c.write(callAdd(1, 1, 2)) // before client-id (NETRON-WIRE.md §4.3)
		if got := c.read(); !bytes.Equal(got, want) {
			t.Fatalf("early call: answer % x, want % x", got, want)
		}
		c.clientID("late-x") // accepted at any time
		c.write(callAdd(2, 40, 2))
		if got := c.read(); !bytes.Equal(got, []byte{0, 0, 0, 2, 0x03, 42}) {
			t.Fatalf("second call: answer % x", got)
		}
		waitPeerID(t, s.n, "late-x")
	})

	t.Run("ping", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.handshake("pinger")
		for _, payload := range [][]byte{
			{0xc0}, // nil (netron-browser)
			{0xcb, 0x42, 0x79, 0, 0x0c, 0x79, 0xc0, 0, 0}, // Date.now() as float64 (titan)
			{0x92, 0xa1, 'a', 0x01},                       // anything
		} {
			ping := append([]byte{0, 0, 0, 5, 0x40}, payload...)
			c.write(ping)
			got := c.read()
			if wantEcho := append([]byte{0, 0, 0, 5, 0x00}, payload...); !bytes.Equal(got, wantEcho) {
				t.Fatalf("ping % x: answer % x, want % x", ping, got, wantEcho)
			}
		}
	})
}

// fakeServer is a TypeScript-like server written by hand: it sends its id
// message (without Titan's extension), reads the client-id message and
// answers every CALL with 3, recording the request ids and flags.
type fakeServer struct {
	l     net.Listener
	mu    sync.Mutex
	first []byte // the client's first message
	ids   []uint32
	flags []byte
	errs  []error
	wg    sync.WaitGroup
}

func startFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeServer{l: l}
	fs.wg.Add(1)
	go fs.serve()
	t.Cleanup(func() { l.Close(); fs.wg.Wait() })
	return fs
}

func (fs *fakeServer) fail(err error) {
	fs.mu.Lock()
	fs.errs = append(fs.errs, err)
	fs.mu.Unlock()
}

func (fs *fakeServer) serve() {
	defer fs.wg.Done()
	nc, err := fs.l.Accept()
	if err != nil {
		return
	}
	defer nc.Close()
	nc.SetWriteDeadline(time.Now().Add(20 * time.Second)) // bound the test; reads have their own
	c := &rawConn{nc: nc}
	hello, _ := json.Marshal(map[string]string{"type": "id", "id": "ts-server"})
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(hello)))
	if _, err := nc.Write(append(frame, hello...)); err != nil {
		fs.fail(err)
		return
	}
	first, err := c.readFrame(5 * time.Second)
	if err != nil {
		fs.fail(fmt.Errorf("reading client-id: %w", err))
		return
	}
	fs.mu.Lock()
	fs.first = first
	fs.mu.Unlock()
	var out bytes.Buffer
	for {
		msg, err := c.readFrame(10 * time.Second)
		if err != nil {
			return // the client closed
		}
		pkt, err := protocol.DecodePacket(msg, protocol.Limits{})
		if err != nil {
			fs.fail(err)
			return
		}
		fs.mu.Lock()
		fs.ids = append(fs.ids, pkt.ID)
		fs.flags = append(fs.flags, msg[4])
		fs.mu.Unlock()
		out.Reset()
		resp, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: pkt.ID, Type: pkt.Type, Data: 3})
		out.Write(binary.BigEndian.AppendUint32(nil, uint32(len(resp))))
		out.Write(resp)
		if _, err := nc.Write(out.Bytes()); err != nil {
			return
		}
	}
}

// Criterion 11: request ids are nonzero and unique, and a Go client talks
// the plain protocol to a server that does not announce the extension.
func TestAcceptanceRequestIDs(t *testing.T) {
	t.Parallel()
	fs := startFakeServer(t)
	p := dial(t, "tcp://"+fs.l.Addr().String())
	if p.ID() != "ts-server" {
		t.Fatalf("server id %q", p.ID())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const calls = 500
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			v, err := netron.CallUnary[int](ctx, p, "calculator@1.0.0", "add", 1, 2)
			if err == nil && v != 3 {
				err = fmt.Errorf("got %d", v)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	p.Close()

	fs.mu.Lock()
	defer fs.mu.Unlock()
	if err := errors.Join(fs.errs...); err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(fs.first, &h); err != nil || h["type"] != "client-id" || h["id"] == "" {
		t.Fatalf("first client message %q is not client-id", fs.first)
	}
	if len(fs.ids) != calls {
		t.Fatalf("server saw %d requests, want %d", len(fs.ids), calls)
	}
	seen := map[uint32]bool{}
	for i, id := range fs.ids {
		if id == 0 || seen[id] {
			t.Fatalf("request id %d is zero or repeated", id)
		}
		seen[id] = true
		if fs.flags[i] != 0x43 {
			t.Fatalf("request %d has flags %#x, want 0x43 (plain CALL, no extension)", id, fs.flags[i])
		}
	}
}
