package netron_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// notFoundLog is an interceptor that records the calls answered not_found.
type notFoundLog struct {
	netron.UnaryInterceptorFunc
	mu  sync.Mutex
	got []string
}

func (l *notFoundLog) CallNotFound(service, transport string) {
	l.mu.Lock()
	l.got = append(l.got, service+"|"+transport)
	l.mu.Unlock()
}

// The calls a gateway hands in (Invoke, InvokeStream) to an unknown
// service or method are reported to a NotFoundObserver, as those over a
// connection are, without the names the caller made up.
func TestNotFoundObservedThroughInvoke(t *testing.T) {
	obs := &notFoundLog{UnaryInterceptorFunc: func(next netron.UnaryFunc) netron.UnaryFunc { return next }}
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
	want := []string{"|http", "calculator@1.0.0|http", "calculator@1.0.0|nats"}
	if !slices.Equal(obs.got, want) {
		t.Errorf("observed %q, want %q", obs.got, want)
	}
}
