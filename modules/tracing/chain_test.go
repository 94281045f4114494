package tracing_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nuid"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
)

// chain is a call chain across three Netrons in one process, each with a
// TracerProvider of its own feeding one exporter: client calls front on
// a over hops[0], front calls middle on b over hops[1], and with a third
// hop middle calls leaf on a over hops[2].
type chain struct {
	exp   *tracetest.InMemoryExporter
	front *netron.Peer // the client's peer of a
	hops  []string
}

func newChain(t *testing.T, hops ...string) *chain {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	client, a, b := tracedNetron(t, exp, 1), tracedNetron(t, exp, 1), tracedNetron(t, exp, 1)
	natsURL := ""
	listenAt := func(n *netron.Netron, addrs map[string]string, scheme string) string {
		if addr, ok := addrs[scheme]; ok {
			return addr
		}
		addr := scheme + "://127.0.0.1:0"
		if scheme == "unix" {
			addr = "unix://" + filepath.Join(t.TempDir(), "n.sock")
		}
		if scheme == "nats" {
			if natsURL == "" {
				natsURL = testsrv.NATS(t) + "?prefix=tr" + strings.ToLower(nuid.Next())
			}
			addr = natsURL
		}
		addrs[scheme] = listen(t, n, addr)
		return addrs[scheme]
	}
	aAddrs, bAddrs := map[string]string{}, map[string]string{}
	front := &Relay{name: "front", target: "middle@1.0.0"}
	middle := &Relay{name: "middle"}
	for _, r := range []struct {
		n    *netron.Netron
		name string
		impl *Relay
	}{{a, "front", front}, {b, "middle", middle}, {a, "leaf", &Relay{name: "leaf"}}} {
		if err := r.n.Register(r.name, "1.0.0", r.impl); err != nil {
			t.Fatal(err)
		}
	}
	c := &chain{exp: exp, hops: hops}
	c.front = dial(t, client, listenAt(a, aAddrs, hops[0]))
	front.next = dial(t, a, listenAt(b, bAddrs, hops[1]))
	if len(hops) == 3 {
		middle.next, middle.target = dial(t, b, listenAt(a, aAddrs, hops[2])), "leaf@1.0.0"
	}
	return c
}

// check checks that the chain's spans are one trace: client and server
// spans alternating from the client's root down, each the child of the
// one before, starting after it and ending before it, named after the
// service of its hop, with the hop's transport on its client span.
func (c *chain) check(t *testing.T, method string) []tracetest.SpanStub {
	t.Helper()
	spans := waitSpans(t, c.exp, 2*len(c.hops))
	chain, err := chainOf(spans)
	if err != nil {
		t.Fatal(err)
	}
	services := []string{"front@1.0.0", "middle@1.0.0", "leaf@1.0.0"}
	root := chain[0].SpanContext.TraceID()
	for i, s := range chain {
		hop := i / 2
		wantKind := trace.SpanKindClient
		if i%2 == 1 {
			wantKind = trace.SpanKindServer
		}
		where := fmt.Sprintf("span %d (%s %s)", i, s.SpanKind, s.Name)
		if s.SpanContext.TraceID() != root {
			t.Errorf("%s: trace %s, want %s", where, s.SpanContext.TraceID(), root)
		}
		if s.SpanKind != wantKind || s.Name != services[hop]+"/"+method {
			t.Errorf("%s: want %s %s/%s", where, wantKind, services[hop], method)
		}
		if s.InstrumentationScope.Name != tracing.ScopeName {
			t.Errorf("%s: scope %q", where, s.InstrumentationScope.Name)
		}
		if attr(s, "rpc.system") != "netron" || attr(s, "rpc.service") != services[hop] || attr(s, "rpc.method") != method {
			t.Errorf("%s: attributes %v", where, s.Attributes)
		}
		if got := attr(s, "rpc.response.status_code"); got != "ok" {
			t.Errorf("%s: code %q, want ok", where, got)
		}
		wantTransport := c.hops[hop]
		if got := attr(s, "netron.transport"); got != wantTransport {
			t.Errorf("%s: netron.transport %q, want %q", where, got, wantTransport)
		}
		if i > 0 {
			parent := chain[i-1]
			if s.StartTime.Before(parent.StartTime) || s.EndTime.After(parent.EndTime) {
				t.Errorf("%s: runs %v..%v, outside its parent's %v..%v", where, s.StartTime, s.EndTime, parent.StartTime, parent.EndTime)
			}
		}
	}
	if chain[0].Parent.IsValid() {
		t.Errorf("the client's span has a parent %s", chain[0].Parent.SpanID())
	}
	return chain
}

var chains = []struct {
	name string
	hops []string
}{
	{"tcp", []string{"tcp", "tcp"}},
	{"http", []string{"http", "http"}},
	{"nats", []string{"nats", "nats"}},
	{"ws-unix-tcp", []string{"ws", "unix", "tcp"}},
	{"tcp-http-nats", []string{"tcp", "http", "nats"}},
	{"nats-tcp-http", []string{"nats", "tcp", "http"}},
}

// TestChainIsOneTrace: a unary call through every hop of a chain is one
// trace whose spans nest in order, whatever transports carry it.
func TestChainIsOneTrace(t *testing.T) {
	for _, tc := range chains {
		t.Run(tc.name, func(t *testing.T) {
			hops := tc.hops
			c := newChain(t, hops...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got, err := netron.CallUnary[string](ctx, c.front, "front@1.0.0", "relay", "x")
			want := "front:middle:x"
			if len(hops) == 3 {
				want = "front:middle:leaf:x"
			}
			if err != nil || got != want {
				t.Fatalf("relay: %q, %v; want %q", got, err, want)
			}
			c.check(t, "relay")
		})
	}
}

// TestStreamChainIsOneTrace: a stream through every hop of a chain is one
// trace too; each span ends when its stream does.
func TestStreamChainIsOneTrace(t *testing.T) {
	for _, tc := range chains {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t, tc.hops...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var got []int
			for v, err := range netron.CallStream[int](ctx, c.front, "front@1.0.0", "count", 4) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if fmt.Sprint(got) != "[0 1 2 3]" {
				t.Fatalf("count: %v", got)
			}
			c.check(t, "count")
		})
	}
}

// TestErrorCarriesTrace: the error of a served call reaches the caller
// with the trace id and the id of the span that served it; server spans
// of a caller's mistake are not failures, client spans are.
func TestErrorCarriesTrace(t *testing.T) {
	for _, tc := range []struct {
		name string
		hops []string
	}{{"tcp", []string{"tcp", "tcp"}}, {"ws", []string{"ws", "tcp"}}, {"nats", []string{"nats", "tcp"}}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t, tc.hops...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := c.front.Call(ctx, "front@1.0.0", "fail")
			if netron.CodeOf(err) != netron.CodeFailedPrecondition || !strings.Contains(err.Error(), "middle refuses") {
				t.Fatalf("fail: %v", err)
			}
			spans := waitSpans(t, c.exp, 4)
			chain, cerr := chainOf(spans)
			if cerr != nil {
				t.Fatal(cerr)
			}
			traceID, spanID := netron.TraceOf(err)
			if traceID != chain[1].SpanContext.TraceID().String() || spanID != chain[1].SpanContext.SpanID().String() {
				t.Errorf("error's trace %s span %s, want those of front's server span %s %s", traceID, spanID,
					chain[1].SpanContext.TraceID(), chain[1].SpanContext.SpanID())
			}
			for i, s := range chain {
				wantStatus := codes.Error // client spans
				if s.SpanKind == trace.SpanKindServer {
					wantStatus = codes.Unset // failed_precondition is the caller's doing
				}
				if s.Status.Code != wantStatus || attr(s, "rpc.response.status_code") != "failed_precondition" {
					t.Errorf("span %d (%s %s): status %v, code %q", i, s.SpanKind, s.Name, s.Status, attr(s, "rpc.response.status_code"))
				}
			}
		})
	}
}
