package netron_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"strings"
	"testing"

	"github.com/titanframework/titan/titantest"

	"github.com/titanframework/titan/modules/netron"
)

// Echo is the benchmark service.
type Echo struct{}

// Echo returns s.
func (Echo) Echo(_ context.Context, s string) (string, error) { return s, nil }

// Address is part of Order.
type Address struct {
	Street string `json:"street" jsonschema:"maxLength=64"`
	City   string `json:"city" jsonschema:"maxLength=32"`
}

// Order is a realistic message: a nested struct, a list of strings, an
// int64, a float, a bool, an enum-like string and an email.
type Order struct {
	ID       int64    `json:"id" jsonschema:"minimum=1"`
	Customer string   `json:"customer" jsonschema:"format=email"`
	Status   string   `json:"status" jsonschema:"enum=new,enum=paid,enum=shipped"`
	Total    float64  `json:"total" jsonschema:"minimum=0"`
	Gift     bool     `json:"gift"`
	Tags     []string `json:"tags" jsonschema:"maxItems=16"`
	Ship     Address  `json:"ship"`
	Note     string   `json:"note,omitempty" jsonschema:"maxLength=140"`
}

// Place returns o.
func (Echo) Place(_ context.Context, o Order) (Order, error) { return o, nil }

// Bytes returns b.
func (Echo) Bytes(_ context.Context, b []byte) ([]byte, error) { return b, nil }

// Packet is a struct with binary data in it.
type Packet struct {
	Name string `json:"name" jsonschema:"maxLength=64"`
	Data []byte `json:"data"`
}

// Store returns b.
func (Echo) Store(_ context.Context, b Packet) (Packet, error) { return b, nil }

// Repeat yields s n times.
func (Echo) Repeat(_ context.Context, s string, n int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for range n {
			if !yield(s, nil) {
				return
			}
		}
	}
}

// FuncsEcho is Echo giving its methods as MethodFuncs.
type FuncsEcho struct{ echoService }

// echoService names Echo so that embedding it promotes its Echo method
// (a field named Echo would hide it).
type echoService = Echo

func (e FuncsEcho) NetronMethods() map[string]netron.MethodFunc {
	return map[string]netron.MethodFunc{
		"Echo":  netron.Func1(e.Echo),
		"Place": netron.Func1(e.Place),
		"Bytes": netron.Func1(e.Bytes),
		"Store": netron.Func1(e.Store),

		"Repeat": netron.Stream2(e.Repeat),
	}
}

func benchPeer(b *testing.B, scheme string) *netron.Peer {
	b.Helper()
	return benchPeerOf(b, scheme, Echo{})
}

// benchPeerOf is benchPeer serving impl as echo@1.0.0.
func benchPeerOf(b *testing.B, scheme string, impl any) *netron.Peer {
	b.Helper()
	// What an app's Netron has: the response cache and validation.
	n, err := netron.New(netron.Config{}, nil, titantest.AppFeatures(b, netron.Config{}))
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Register("echo", "1.0.0", impl); err != nil {
		b.Fatal(err)
	}
	addr := "tcp://127.0.0.1:0"
	if scheme == "mem" {
		addr = "mem://"
	}
	bound, err := n.Listen(context.Background(), addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Stop(context.Background()) })
	p, err := netron.Dial(context.Background(), bound)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

var benchSizes = []struct {
	name string
	size int
}{{"32B", 32}, {"4KiB", 4 << 10}}

func BenchmarkUnary(b *testing.B) {
	for _, scheme := range []string{"mem", "tcp"} {
		for _, sz := range benchSizes {
			b.Run(scheme+"/"+sz.name, func(b *testing.B) {
				p := benchPeer(b, scheme)
				ctx := context.Background()
				msg := strings.Repeat("a", sz.size)
				b.SetBytes(int64(sz.size))
				b.ReportAllocs()
				for b.Loop() {
					got, err := netron.CallUnary[string](ctx, p, "echo@1.0.0", "echo", msg)
					if err != nil || len(got) != sz.size {
						b.Fatalf("echo: %d bytes, %v", len(got), err)
					}
				}
			})
		}
	}
}

// BenchmarkUnaryBytes echoes a []byte, its contract validated.
func BenchmarkUnaryBytes(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run("tcp/"+sz.name, func(b *testing.B) {
			p := benchPeer(b, "tcp")
			ctx := context.Background()
			msg := []byte(strings.Repeat("a", sz.size))
			b.SetBytes(int64(sz.size))
			b.ReportAllocs()
			for b.Loop() {
				got, err := netron.CallUnary[[]byte](ctx, p, "echo@1.0.0", "bytes", msg)
				if err != nil || len(got) != sz.size {
					b.Fatalf("bytes: %d bytes, %v", len(got), err)
				}
			}
		})
	}
}

// BenchmarkUnaryBinaryField echoes a struct holding binary data, its contract
// validated.
func BenchmarkUnaryBinaryField(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run("tcp/"+sz.name, func(b *testing.B) {
			p := benchPeer(b, "tcp")
			ctx := context.Background()
			pk := Packet{Name: "x", Data: []byte(strings.Repeat("a", sz.size))}
			b.SetBytes(int64(sz.size))
			b.ReportAllocs()
			for b.Loop() {
				got, err := netron.CallUnary[Packet](ctx, p, "echo@1.0.0", "store", pk)
				if err != nil || len(got.Data) != sz.size {
					b.Fatalf("store: %d bytes, %v", len(got.Data), err)
				}
			}
		})
	}
}

// BenchmarkUnaryStruct echoes an Order, its contract validated.
func BenchmarkUnaryStruct(b *testing.B) { benchUnaryStruct(b, Echo{}) }

// BenchmarkUnaryStructFuncs is BenchmarkUnaryStruct with the service's
// methods given as MethodFuncs.
func BenchmarkUnaryStructFuncs(b *testing.B) { benchUnaryStruct(b, FuncsEcho{}) }

func benchUnaryStruct(b *testing.B, impl any) {
	p := benchPeerOf(b, "tcp", impl)
	ctx := context.Background()
	o := Order{ID: 42, Customer: "ada@example.com", Status: "paid", Total: 99.5, Gift: true,
		Tags: []string{"books", "fast"}, Ship: Address{Street: "1 Main St", City: "Springfield"}, Note: "leave at the door"}
	b.ReportAllocs()
	for b.Loop() {
		got, err := netron.CallUnary[Order](ctx, p, "echo@1.0.0", "place", o)
		if err != nil || got.ID != 42 {
			b.Fatalf("place: %v, %v", got, err)
		}
	}
}

func BenchmarkUnaryParallel(b *testing.B) {
	for _, scheme := range []string{"mem", "tcp"} {
		for _, sz := range benchSizes {
			b.Run(scheme+"/"+sz.name, func(b *testing.B) {
				p := benchPeer(b, scheme)
				ctx := context.Background()
				msg := strings.Repeat("a", sz.size)
				b.SetBytes(int64(sz.size))
				b.ReportAllocs()
				b.SetParallelism(16) // 16 × GOMAXPROCS callers on one connection
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						got, err := netron.CallUnary[string](ctx, p, "echo@1.0.0", "echo", msg)
						if err != nil || len(got) != sz.size {
							b.Errorf("echo: %d bytes, %v", len(got), err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkUnaryParallelFuncs is BenchmarkUnaryParallel/tcp/32B with the
// service's methods given as MethodFuncs.
func BenchmarkUnaryParallelFuncs(b *testing.B) {
	p := benchPeerOf(b, "tcp", FuncsEcho{})
	ctx := context.Background()
	msg := strings.Repeat("a", 32)
	b.SetBytes(32)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			got, err := netron.CallUnary[string](ctx, p, "echo@1.0.0", "echo", msg)
			if err != nil || len(got) != 32 {
				b.Errorf("echo: %d bytes, %v", len(got), err)
				return
			}
		}
	})
}

// BenchmarkStream reads a stream of 100 items per iteration.
func BenchmarkStream(b *testing.B) {
	const items = 100
	for _, scheme := range []string{"mem", "tcp"} {
		for _, sz := range benchSizes {
			b.Run(scheme+"/"+sz.name, func(b *testing.B) {
				p := benchPeer(b, scheme)
				ctx := context.Background()
				msg := strings.Repeat("a", sz.size)
				b.SetBytes(int64(sz.size * items))
				b.ReportAllocs()
				for b.Loop() {
					s, err := p.OpenStream(ctx, "echo@1.0.0", "repeat", msg, items)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for {
						var v string
						err := s.Recv(&v)
						if errors.Is(err, io.EOF) {
							break
						}
						if err != nil || len(v) != sz.size {
							b.Fatalf("item %d: %d bytes, %v", n, len(v), err)
						}
						n++
					}
					s.Close()
					if n != items {
						b.Fatalf("%d items", n)
					}
				}
			})
		}
	}
}

// BenchmarkBound calls through a client bound with Peer.Bind, the way an
// app's titan.Remote calls, beside CallUnary on the same peer.
func BenchmarkBound(b *testing.B) {
	type echoClient struct {
		Echo  func(ctx context.Context, s string) (string, error)
		Place func(ctx context.Context, o Order) (Order, error)
	}
	p := benchPeer(b, "tcp")
	ctx := context.Background()
	var c echoClient
	if err := p.Bind(ctx, "echo@1.0.0", &c); err != nil {
		b.Fatal(err)
	}
	msg := strings.Repeat("a", 32)
	b.Run("string/CallUnary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got, err := netron.CallUnary[string](ctx, p, "echo@1.0.0", "echo", msg); err != nil || got != msg {
				b.Fatalf("echo: %q, %v", got, err)
			}
		}
	})
	b.Run("string/Bind", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got, err := c.Echo(ctx, msg); err != nil || got != msg {
				b.Fatalf("echo: %q, %v", got, err)
			}
		}
	})
	o := Order{ID: 42, Customer: "ada@example.com", Status: "paid", Total: 99.5, Gift: true,
		Tags: []string{"books", "fast"}, Ship: Address{Street: "1 Main St", City: "Springfield"}, Note: "leave at the door"}
	b.Run("struct/Bind", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got, err := c.Place(ctx, o); err != nil || got.ID != 42 {
				b.Fatalf("place: %v, %v", got, err)
			}
		}
	})
}

// BenchmarkPoolBound calls through a client bound with Pool.Bind, over a
// pool of one connected instance: the path of every titan.Remote call
// once the pool has connected.
func BenchmarkPoolBound(b *testing.B) {
	for _, scheme := range []string{"mem", "tcp"} {
		b.Run(scheme, func(b *testing.B) {
			ctx := context.Background()
			n, err := netron.New(netron.Config{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := n.Register("echo", "1.0.0", Echo{}); err != nil {
				b.Fatal(err)
			}
			addr := "tcp://127.0.0.1:0"
			if scheme == "mem" {
				addr = "mem://"
			}
			bound, err := n.Listen(ctx, addr)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { n.Stop(ctx) })
			pool, err := n.NewPool("echo@^1", nil, netron.WithAddress(bound))
			if err != nil {
				b.Fatal(err)
			}
			if err := pool.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { pool.Close() })
			var c struct {
				Echo func(ctx context.Context, s string) (string, error)
			}
			if err := pool.Bind(&c); err != nil {
				b.Fatal(err)
			}
			msg := strings.Repeat("a", 32)
			b.ReportAllocs()
			for b.Loop() {
				if got, err := c.Echo(ctx, msg); err != nil || got != msg {
					b.Fatalf("echo: %q, %v", got, err)
				}
			}
		})
	}
}
