package netron_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// refusedLog is an interceptor that records the calls the engine
// answered before any interceptor ran, as "service|transport|code".
type refusedLog struct {
	netron.UnaryInterceptorFunc
	mu  sync.Mutex
	got []string
}

func (l *refusedLog) CallRefused(service, transport string, code netron.Code) {
	l.mu.Lock()
	l.got = append(l.got, service+"|"+transport+"|"+code.String())
	l.mu.Unlock()
}

// The calls a gateway hands in (Invoke, InvokeStream) to an unknown
// service or method are reported to a RefusedCallObserver, as those over a
// connection are, without the names the caller made up.
func TestNotFoundObservedThroughInvoke(t *testing.T) {
	obs := &refusedLog{UnaryInterceptorFunc: func(next netron.UnaryFunc) netron.UnaryFunc { return next }}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(obs))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, inv := range []*netron.Invocation{
		{Service: "NoSuchService", Method: "Add", Transport: "http"},
		{Service: "calculator", Method: "noSuchMethod", Transport: "http"},
	} {
		if _, err := n.Invoke(ctx, inv); netron.CodeOf(err) != netron.CodeNotFound {
			t.Fatalf("Invoke %s.%s: %v, want not_found", inv.Service, inv.Method, err)
		}
	}
	if _, err := n.InvokeStream(ctx, &netron.Invocation{Service: "calculator", Method: "noSuchStream", Transport: "nats"}); netron.CodeOf(err) != netron.CodeNotFound {
		t.Fatalf("InvokeStream: %v, want not_found", err)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []string{"|http|not_found", "calculator@1.0.0|http|not_found", "calculator@1.0.0|nats|not_found"}
	if !slices.Equal(obs.got, want) {
		t.Errorf("observed %q, want %q", obs.got, want)
	}
}

// The calls answered invalid_argument for a method name that breaks the
// wire rule are reported to a RefusedCallObserver, from a connection (a
// TypeScript peer's too) and from a gateway, with the service when the
// Netron has it and never the names the caller made up.
func TestInvalidNameObserved(t *testing.T) {
	obs := &refusedLog{UnaryInterceptorFunc: func(next netron.UnaryFunc) netron.UnaryFunc { return next }}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(obs))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := n.Invoke(ctx, &netron.Invocation{Service: "calculator", Method: "get-total", Transport: "http"}); netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("Invoke: %v, want invalid_argument", err)
	}
	if _, err := n.InvokeStream(ctx, &netron.Invocation{Service: "calculator", Method: "1count", Transport: "nats"}); netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("InvokeStream: %v, want invalid_argument", err)
	}
	addr, err := n.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, addr)
	c.handshake("ts-peer")
	if msg := rawError(t, c, 1, protocol.TypeCall, []any{"calculator@1.0.0", "get-total", 1}); msg != "Invalid method name" {
		t.Fatalf("TypeScript peer: %q, want %q", msg, "Invalid method name")
	}
	if msg := rawError(t, c, 2, protocol.TypeCall, []any{"nosuch@1.0.0", "get-total", 1}); msg != "Invalid method name" {
		t.Fatalf("TypeScript peer, unknown service: %q, want %q", msg, "Invalid method name")
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []string{"calculator@1.0.0|http|invalid_argument", "calculator@1.0.0|nats|invalid_argument", "calculator@1.0.0|tcp|invalid_argument", "|tcp|invalid_argument"}
	if !slices.Equal(obs.got, want) {
		t.Errorf("observed %q, want %q", obs.got, want)
	}
}
