package nats

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron/transport"
)

// An error NATS reports on a dialled connection apart from any request
// (here a slow consumer: the inbox's subscription dropped messages) is
// logged on the logger of the transport's options, once. nats.go's
// default handler used to print it on standard error, past the logger.
func TestDialledConnectionLogsNATSErrors(t *testing.T) {
	u := privateURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var logged testsrv.LogBuffer
	conn, err := Transport{}.Dial(ctx, u, transport.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*clientConn)
	defer c.Close()
	if err := c.sub.SetPendingLimits(1, -1); err != nil {
		t.Fatal(err)
	}
	pub, err := nats.Connect("nats://" + u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	// Answers wait for c.mu: the subscription takes one, holds one
	// pending and drops the rest.
	c.mu.Lock()
	unlocked := false
	unlock := func() {
		if !unlocked {
			unlocked = true
			c.mu.Unlock()
		}
	}
	defer unlock()
	for range 10 {
		if err := pub.Publish(c.inbox+".r.1", []byte("answer")); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(logged.String(), nats.ErrSlowConsumer.Error()) {
		if ctx.Err() != nil {
			t.Fatalf("the slow consumer of the dialled connection's inbox was not logged; the log holds %q", logged.String())
		}
		time.Sleep(time.Millisecond)
	}
	unlock()
	if got := logged.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "level=WARN") || !strings.Contains(got, c.inbox) {
		t.Fatalf("the log holds %q, want one warning naming the inbox subscription", got)
	}
}
