package cache_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
)

// BenchmarkHit calls a cached method in process, answered from the cache:
// a result without references (an int) and results that hold them (a
// map, a slice of ten structs with a slice each).
func BenchmarkHit(b *testing.B) {
	for _, bc := range []struct {
		name, service, method string
		args                  []any
	}{
		{"int", "calc@1.0.0", "add", []any{1, 2}},
		{"map", "catalog@1.0.0", "prices", []any{"apple"}},
		{"items", "catalog@1.0.0", "items", []any{10}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var runs atomic.Int64
			c := cache.New(100)
			defer c.Close()
			n := newNetron(b, c, &runs)
			ctx, inv := asCaller("ada"), invocation(b, bc.service, bc.method, bc.args...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := n.Invoke(ctx, inv); err != nil {
					b.Fatal(err)
				}
			}
			if runs.Load() != 1 {
				b.Fatalf("the method ran %d times, want 1", runs.Load())
			}
		})
	}
}

// BenchmarkHitOverMem calls a cached method over mem://, answered from
// the cache: what a remote caller pays for a result that holds references.
func BenchmarkHitOverMem(b *testing.B) {
	var runs atomic.Int64
	c := cache.New(100)
	defer c.Close()
	n := newNetron(b, c, &runs)
	addr, err := n.Listen(context.Background(), "mem://")
	if err != nil {
		b.Fatal(err)
	}
	p, err := netron.Dial(context.Background(), addr)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := netron.CallUnary[[]Item](ctx, p, "catalog@1.0.0", "items", 10); err != nil {
			b.Fatal(err)
		}
	}
	if runs.Load() != 1 {
		b.Fatalf("the method ran %d times, want 1", runs.Load())
	}
}
