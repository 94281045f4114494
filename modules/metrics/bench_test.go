package metrics_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/metrics"
	"github.com/titanframework/titan/modules/netron"
)

// benchApp starts an app serving calc@1.0.0 on tcp:// with sets and
// returns a peer dialled to it (a client without interceptors).
func benchApp(b *testing.B, sets ...string) *netron.Peer {
	b.Helper()
	var n *netron.Netron
	app := titan.New(testsrv.Settings(append(sets, "netron.listen=tcp://127.0.0.1:0")...),
		titan.Service("calc", "1.0.0", func() Calc { return Calc{} }),
		titan.Invoke(func(nn *netron.Netron) { n = nn }))
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = app.Stop(ctx) })
	p, err := netron.Dial(ctx, n.Addrs()[0])
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// onOff are the apps the benchmarks compare: metrics off and on.
var onOff = []struct {
	name string
	sets []string
}{
	{"metrics=off", []string{"metrics.enabled=false"}},
	{"metrics=on", nil},
}

// BenchmarkUnaryTCP is a unary call over tcp:// to an app with metrics
// off (metrics.enabled=false) and on: the cost of the interceptor on the
// serving side.
func BenchmarkUnaryTCP(b *testing.B) {
	for _, bc := range onOff {
		b.Run(bc.name, func(b *testing.B) {
			p := benchApp(b, bc.sets...)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := netron.CallUnary[float64](ctx, p, "calc@1.0.0", "add", 1, 2); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnaryTCPParallel is BenchmarkUnaryTCP with calls from every
// CPU at once on one connection: the interceptor's counters are shared.
func BenchmarkUnaryTCPParallel(b *testing.B) {
	for _, bc := range onOff {
		b.Run(bc.name, func(b *testing.B) {
			p := benchApp(b, bc.sets...)
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := netron.CallUnary[float64](ctx, p, "calc@1.0.0", "add", 1, 2); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkInvoke is a call through Invoke (a gateway's path) on a bare
// Netron, with and without the interceptor: its cost alone, without the
// noise of a network round trip.
func BenchmarkInvoke(b *testing.B) {
	ic, err := metrics.NewInterceptor(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		ics  []netron.Interceptor
	}{{"metrics=off", nil}, {"metrics=on", []netron.Interceptor{ic}}} {
		b.Run(bc.name, func(b *testing.B) {
			call := invoker(b, bc.ics...)
			b.ReportAllocs()
			for b.Loop() {
				call()
			}
		})
	}
}
