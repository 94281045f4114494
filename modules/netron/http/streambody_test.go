package http_test

import (
	"bufio"
	"context"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Idle yields n, then nothing until its call ends.
type Idle struct{}

func (Idle) Wait(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		if yield(n, nil) {
			<-ctx.Done()
		}
	}
}

// A stream answered as SSE or NDJSON runs for as long as it produces, or
// waits: it keeps the arguments read from its body, not the body. A body
// of 1 MiB, mostly white space around one number, does not hold 1 MiB of
// the gateway's budget of request bodies (WithMaxBodyMemory) for as long
// as its stream is idle; the stream's end gives back what it holds.
func TestIdleStreamDoesNotHoldItsBody(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("idle", "1.0.0", Idle{}, netron.WithHTTP("/api/idle")); err != nil {
		t.Fatal(err)
	}
	g := listenGateway(t, n)
	h := g.Handler()
	body := "[7" + strings.Repeat(" ", 1<<20) + "]"
	for _, accept := range []string{"text/event-stream", "application/x-ndjson"} {
		ctx, cancel := context.WithCancel(context.Background())
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.Addr()+"/api/idle/wait", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		resp, err := client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.Contains(line, "7") {
			t.Fatalf("%s: first line %q, %v", accept, line, err)
		}
		if held := h.BodyBytesHeld(); held > 4<<10 {
			t.Errorf("%s: an idle stream holds %d bytes of request bodies; want its arguments' few", accept, held)
		}
		cancel()
		resp.Body.Close()
		deadline := time.Now().Add(10 * time.Second)
		for h.BodyBytesHeld() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: after the stream, %d bytes still held", accept, h.BodyBytesHeld())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
