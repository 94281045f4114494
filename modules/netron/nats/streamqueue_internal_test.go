package nats

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// counter's Count yields 0, 1, ... n-1 and closes stopped when its caller
// stops it.
type counter struct{ stopped chan struct{} }

func (c *counter) Count(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		defer func() {
			if ctx.Err() != nil {
				close(c.stopped)
			}
		}()
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

// The packets of a stream a dialled connection receives wait for the
// engine to read them at most maxQueuedStreamPackets and
// maxQueuedStreamBytes at a time: a flood past either, on the stream's
// <inbox>.s subject, ends the stream with resource_exhausted naming a slow
// consumer, which reaches the engine after the packets that wait, and its
// producer is told to stop. They used to be queued without bound: anyone
// who could publish to the inbox made the connection hold all it
// published.
func TestStreamPacketsWaitingForTheEngineAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int // of an item's payload
		flood int
		batch int // published at once, then waited for
	}{
		{"by count", 1, maxQueuedStreamPackets + 1000, 10000},
		{"by bytes", 512 << 10, maxQueuedStreamBytes/(512<<10) + 8, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := privateURL(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			n, err := netron.New(netron.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			svc, _ := serveCounter(t, ctx, n, u)

			c, read := dialled(t, ctx, u)
			defer c.Close()
			call, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true,
				Data: []any{"counter@1.0.0", "count", 1 << 30}})
			if err := c.WriteMessages(call); err != nil {
				t.Fatal(err)
			}
			answer := read()
			ref, ok := answer.Data.(protocol.StreamReference)
			if answer.ID != 1 || !ok {
				t.Fatalf("the stream call answered %#v, want a stream reference", answer.Data)
			}

			pub, err := nats.Connect("nats://" + u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			item, _ := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.TypeStream, Impulse: true, Live: true,
				StreamID: ref.StreamID, Data: strings.Repeat("f", tc.size)})
			// delivered waits until the inbox has received n messages in
			// all; nothing reads them meanwhile, as an engine behind.
			delivered := func(n int64) {
				t.Helper()
				for {
					got, err := c.sub.Delivered()
					if err != nil {
						t.Fatal(err)
					}
					if got >= n {
						return
					}
					if ctx.Err() != nil {
						t.Fatalf("the inbox received %d messages of %d", got, n)
					}
					time.Sleep(time.Millisecond)
				}
			}
			// The answer, then the producer's window of items.
			delivered(int64(1 + c.window))
			base, _ := c.sub.Delivered()
			// The flood is published in batches, each delivered before the
			// next, so that the NATS server never finds the connection a
			// slow consumer of its own.
			for sent := 0; sent < tc.flood; {
				batch := min(tc.batch, tc.flood-sent)
				for range batch {
					if err := pub.Publish(c.inbox+".s", item); err != nil {
						t.Fatal(err)
					}
				}
				sent += batch
				if err := pub.FlushWithContext(ctx); err != nil {
					t.Fatal(err)
				}
				delivered(base + int64(sent))
			}
			// The flood passes the bounds: the stream's end waits last,
			// unless the bounds do not hold. (What the inbox has received
			// counts the probes of the instance too: it cannot tell when
			// the last packet of the flood arrived.)
			var queued, bytes int
			for {
				c.rmu.Lock()
				queued, bytes = len(c.rq), c.rbytes
				ended := false
				if queued > 0 {
					pkt, _, err := protocol.SplitPacket(c.rq[queued-1], protocol.Limits{MaxFrameSize: 1 << 20})
					ended = err == nil && pkt.Type == protocol.TypeStreamClose
				}
				c.rmu.Unlock()
				if ended || queued > maxQueuedStreamPackets+1 || bytes > maxQueuedStreamBytes+1024 {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("%d stream packets published: the stream is still open, and %d (%d bytes) wait for the engine", tc.flood, queued, bytes)
				}
				time.Sleep(time.Millisecond)
			}
			// The stream's end comes on top of what the bounds let wait.
			if queued > maxQueuedStreamPackets+1 || bytes > maxQueuedStreamBytes+1024 {
				t.Fatalf("%d stream packets published while the engine reads nothing: %d (%d bytes) wait for it, want at most %d (%d bytes)",
					tc.flood, queued, bytes, maxQueuedStreamPackets, maxQueuedStreamBytes)
			}
			var last protocol.Packet
			for range queued {
				last = read()
			}
			if last.Type != protocol.TypeStreamClose {
				t.Fatalf("the last packet waiting is %v %.100s, want the stream's end", last.Type, fmt.Sprintf("%#v", last.Data))
			}
			reason, _ := last.Data.(protocol.Object).Get("reason")
			if s, _ := reason.(string); !strings.HasPrefix(s, "resource_exhausted: ") || !strings.Contains(s, "slow consumer") {
				t.Fatalf("the stream ended with %q, want resource_exhausted naming a slow consumer", reason)
			}
			select {
			case <-svc.stopped:
			case <-ctx.Done():
				t.Fatal("the producer of the stream was not stopped")
			}
		})
	}
}
