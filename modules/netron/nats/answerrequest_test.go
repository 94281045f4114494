package nats_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Local is a service of the calling process, which nothing on NATS may
// call (calls from the serving side are not supported over NATS).
type Local struct{ touched atomic.Int64 }

func (l *Local) Touch(context.Context) (int, error) { return int(l.touched.Add(1)), nil }

// The answer to a call over NATS must be an answer to a call: one that is
// a request (a packet with the impulse bit, here a call of the caller's
// own service) or a packet of another type (the end of a stream), from
// anyone subscribed to the call's subject, fails the call with internal
// naming a malformed answer, and is not handed to the engine. It used to
// be handed on as it was: the caller's engine ran its own service for
// whoever answered, or took the packet for the end of one of its streams,
// and the call was never answered.
func TestAnswerOfTheWrongKindIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer protocol.Packet
	}{
		{"a request", protocol.Packet{Type: protocol.TypeCall, Impulse: true, Data: []any{"local@1.0.0", "touch"}}},
		{"a stream's end", protocol.Packet{Type: protocol.TypeStreamClose,
			Data: protocol.Object{{Key: "streamId", Value: 1}, {Key: "reason", Value: "forged"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := testURL(t)
			nc, prefix := rawNATS(t, addr)
			// Not an instance: anyone who may subscribe to the call's subject.
			forged, err := protocol.AppendPacket(nil, &tc.answer)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := nc.Subscribe(prefix+".rpc.calculator.1_0_0.add", func(m *nats.Msg) {
				r := nats.NewMsg(m.Reply)
				r.Header.Set(natstransport.HeaderInstance, "forger")
				r.Data = forged
				_ = nc.PublishMsg(r)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}

			n, err := netron.New(netron.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			local := &Local{}
			if err := n.Register("local", "1.0.0", local); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { n.Stop(context.Background()) })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			p, err := n.Dial(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
			defer ccancel()
			_, err = p.Call(cctx, "calculator@1.0.0", "add", 1, 2)
			if netron.CodeOf(err) != netron.CodeInternal || !strings.Contains(err.Error(), "malformed answer") {
				t.Errorf("a call answered with %s: %v, want internal naming a malformed answer", tc.name, err)
			}
			if n := local.touched.Load(); n != 0 {
				t.Fatalf("the caller's own service ran %d times for whoever answered its call on NATS", n)
			}
		})
	}
}
