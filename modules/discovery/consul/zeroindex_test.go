package consul_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/discovery"
)

// An agent may answer a blocking query with the index 0 (Consul's
// documentation says clients must then use 1): a watch that sent 0 back
// asked for an answer at once, again and again, without end.
func TestWatchOfIndexZeroBlocks(t *testing.T) {
	f := newFakeAgent(t)
	r := open(t, f.url(), time.Minute)
	f.mu.Lock()
	f.index = 0
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	for range r.Watch(ctx, discovery.Query{Service: "users"}) {
	}
	f.mu.Lock()
	reads := f.reads
	f.mu.Unlock()
	// Blocking reads of at most a second each: one, or two with the one
	// the first answer's index asks for.
	if reads > 3 {
		t.Fatalf("a watch of 500ms made %d reads of an agent at index 0, want at most 3", reads)
	}
}
