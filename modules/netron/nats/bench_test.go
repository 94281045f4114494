package nats_test

import (
	"context"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

func BenchmarkCall(b *testing.B) {
	url := testURL(b)
	startInstance(b, url, "1.0.0")
	p := dial(b, url, netron.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Call(ctx, "calculator@1.0.0", "add", 1, 2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCallParallel(b *testing.B) {
	url := testURL(b)
	startInstance(b, url, "1.0.0")
	p := dial(b, url, netron.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Call(ctx, "calculator@1.0.0", "add", 1, 2); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkStream(b *testing.B) {
	url := testURL(b)
	startInstance(b, url, "1.0.0")
	p := dial(b, url, netron.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range netron.CallStream[int](ctx, p, "calculator@1.0.0", "count", 1000) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
