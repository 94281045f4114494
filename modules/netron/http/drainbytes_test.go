package http_test

import (
	"context"
	"iter"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// blobs streams n strings of size bytes each, and counts the items it
// was asked for past the first refusal.
type blobs struct{ sent chan int }

func (b blobs) Chunks(ctx context.Context, n, size int) iter.Seq2[string, error] {
	chunk := strings.Repeat("x", size)
	return func(yield func(string, error) bool) {
		i := 0
		defer func() { b.sent <- i }()
		for ; i < n; i++ {
			if !yield(chunk, nil) {
				return
			}
		}
	}
}

// Ratios yields 1, then a number that has no JSON form.
func (blobs) Ratios(context.Context) iter.Seq2[float64, error] {
	return func(yield func(float64, error) bool) {
		_ = yield(1, nil) && yield(math.Inf(1), nil)
	}
}

// A stream drained into one JSON array takes at most as many bytes as one
// message may (netron's maxFrameSize, 1 MiB here), not only at most 10000
// items: 100 items of 64 KiB are refused with 413 once the array passes
// the limit, and the stream is stopped there (its producer told, not run
// to its end); within the limit the items are answered.
func TestDrainedStreamIsBoundedInBytes(t *testing.T) {
	n, err := netron.New(netron.Config{MaxFrameSize: 1 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := blobs{sent: make(chan int, 4)}
	if err := n.Register("blobs", "1.0.0", b, netron.WithHTTP("/api/blobs")); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	c := client(t)

	for _, path := range []string{"/api/blobs/chunks", "/netron/invoke"} {
		body := "[100,65536]"
		if path == "/netron/invoke" {
			body = `{"id":"1","service":"blobs@1.0.0","method":"chunks","input":[100,65536]}`
		}
		r := post(t, c, addr+path, body)
		msg, _ := errorOf(t, r)["message"].(string)
		if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "more than 1048576 bytes of JSON (netron.maxFrameSize)") {
			t.Errorf("POST %s, 100 items of 64 KiB: %d %s, want 413 naming the byte limit", path, r.status, r.body)
		}
		if sent := <-b.sent; sent > 16 {
			t.Errorf("POST %s: the producer made %d items, want it stopped at the limit (16)", path, sent)
		}
	}
	// An item that has no JSON form fails the answer as a result without
	// one does: an internal error.
	for path, body := range map[string]string{
		"/api/blobs/ratios": "[]",
		"/netron/invoke":    `{"id":"2","service":"blobs@1.0.0","method":"ratios","input":[]}`,
	} {
		if r := post(t, c, addr+path, body); r.status != http.StatusInternalServerError || r.header.Get("X-Titan-Code") != "internal" {
			t.Errorf("POST %s, an infinite item: %d %s, want 500 internal", path, r.status, r.body)
		}
	}
	r := post(t, c, addr+"/api/blobs/chunks", "[10,65536]")
	if r.status != http.StatusOK || len(r.body) < 10*65536 {
		t.Errorf("10 items of 64 KiB: %d, %d bytes, want 200 and the items", r.status, len(r.body))
	}
	<-b.sent
}
