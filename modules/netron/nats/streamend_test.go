package nats_test

import (
	"context"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

type hugeFailer struct{}

// Fail yields one item, then fails with a message larger than NATS's
// max_payload (1 MiB by default).
func (hugeFailer) Fail(context.Context) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		if !yield(1, nil) {
			return
		}
		yield(0, netron.Errorf(netron.CodeDataLoss, "broken: %s", strings.Repeat("x", 2<<20)))
	}
}

// TestStreamEndWithHugeReason: a producer that fails with a message over
// the NATS max_payload still ends its stream at once with its code (the
// reason cut), instead of leaving the reader waiting for an end that
// could not be published until the stream's idle timeout.
func TestStreamEndWithHugeReason(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	n, _ := startInstance(t, url, "1.0.0")
	if err := n.Register("failer", "1.0.0", hugeFailer{}); err != nil {
		t.Fatal(err)
	}
	p := dial(t, url, netron.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	var last error
	items := 0
	for _, err := range netron.CallStream[int](ctx, p, "failer@1.0.0", "fail") {
		if err != nil {
			last = err
			break
		}
		items++
	}
	if items != 1 || netron.CodeOf(last) != netron.CodeDataLoss || time.Since(start) > 5*time.Second {
		t.Fatalf("after %v: %d items, then %v; want 1 item, then data_loss at once", time.Since(start).Round(time.Millisecond), items, last)
	}
}
