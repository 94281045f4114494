package netron_test

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// FuzzServerFrames sends arbitrary messages to a live server, as a hostile
// peer would (before and after a handshake), and checks that the server
// still answers a well-formed call on a fresh connection: no input may
// crash it or wedge it.
func FuzzServerFrames(f *testing.F) {
	// One server for all iterations (of this process).
	n, err := netron.New(netron.Config{RequestTimeout: time.Second, MaxFrameSize: 1 << 20}, nil)
	if err != nil {
		f.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		f.Fatal(err)
	}
	if _, err := n.Listen(context.Background(), "mem://fuzz-server"); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Stop(context.Background()) })
	call, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true,
		Data: []any{"calculator@1.0.0", "add", 1, 2}})
	task, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 2, Type: protocol.TypeTask, Impulse: true,
		Data: []any{"query_interface", "calculator"}})
	for _, seed := range [][]byte{
		call, task,
		[]byte(`{"type":"client-id","id":"x","titan":{"v":1,"window":0}}`),
		[]byte(`{"type":"client-id"`),
		{0, 0, 0, 1, 0x4f, 0xc0},
		{0, 0, 0, 1, 0x63, 0x93, 0xa1, 'x', 0xa3, 'a', 'd', 'd', 0x81, 0xa1, 't', 0xcf},
		{0, 0, 0, 3, 0x45, 0xc0, 0, 0, 0, 9, 0, 0, 0, 0},
		{0, 0, 0, 3, 0x07, 0x81, 0xa8, 's', 't', 'r', 'e', 'a', 'm', 'I', 'd', 0x01},
	} {
		f.Add(seed, seed)
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := transport.Dial(ctx, "mem://fuzz-server", transport.Options{MaxFrameSize: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.WriteMessages(first, second)
		c.Close()

		p, err := netron.Dial(ctx, "mem://fuzz-server")
		if err != nil {
			t.Fatalf("server unreachable after %s / %s: %v", hex.EncodeToString(first), hex.EncodeToString(second), err)
		}
		defer p.Close()
		got, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 2, 2)
		if err != nil || got != 4 {
			t.Fatalf("server broken after %s / %s: %v, %v", hex.EncodeToString(first), hex.EncodeToString(second), got, err)
		}
	})
}
