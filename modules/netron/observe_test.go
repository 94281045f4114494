package netron_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Adder is the service of the observe tests.
type Adder struct{}

func (Adder) Add(_ context.Context, a, b int) (int, error) { return a + b, nil }

// transports records the transport of each call an interceptor sees, by
// side.
type transports struct {
	mu  sync.Mutex
	got []string
}

func (r *transports) interceptor() netron.Interceptor {
	return netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			side := "serve "
			if call.IsClient() {
				side = "call "
			}
			r.mu.Lock()
			r.got = append(r.got, side+call.Transport())
			r.mu.Unlock()
			return next(ctx, call)
		}
	})
}

func (r *transports) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// Call.Transport names the scheme a call travels over on both sides, and a
// gateway's transport for the calls it hands in; Peer.Transport and
// Dialled describe the peers; Draining follows Stop.
func TestObserveAccessors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var srvSeen, cliSeen transports
	srv, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(srvSeen.interceptor()))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(ctx)
	if err := srv.Register("adder", "1.0.0", Adder{}); err != nil {
		t.Fatal(err)
	}
	cli, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(cliSeen.interceptor()))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Stop(ctx)

	for _, listen := range []string{"tcp://127.0.0.1:0", "ws://127.0.0.1:0"} {
		addr, err := srv.Listen(ctx, listen)
		if err != nil {
			t.Fatal(err)
		}
		scheme := listen[:len(listen)-len("://127.0.0.1:0")]
		p, err := cli.Dial(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := netron.CallUnary[int](ctx, p, "adder@1.0.0", "add", 1, 2); err != nil {
			t.Fatal(err)
		}
		if got := srvSeen.take(); len(got) != 1 || got[0] != "serve "+scheme {
			t.Errorf("%s: the server saw %q", scheme, got)
		}
		if got := cliSeen.take(); len(got) != 1 || got[0] != "call "+scheme {
			t.Errorf("%s: the client saw %q", scheme, got)
		}
		if p.Transport() != scheme || !p.Dialled() {
			t.Errorf("%s: dialled peer: Transport %q, Dialled %v", scheme, p.Transport(), p.Dialled())
		}
		accepted := 0
		for _, sp := range srv.Peers() {
			if sp.Transport() == scheme && !sp.Dialled() {
				accepted++
			}
		}
		if accepted != 1 {
			t.Errorf("%s: %d accepted peers of the scheme, want 1", scheme, accepted)
		}
		p.Close()
	}

	one, _ := protocol.AppendValue(nil, 1)
	if _, err := srv.Invoke(ctx, &netron.Invocation{Service: "adder@1.0.0", Method: "add", Args: []protocol.RawValue{one, one}, Transport: "nats"}); err != nil {
		t.Fatal(err)
	}
	if got := srvSeen.take(); len(got) != 1 || got[0] != "serve nats" {
		t.Errorf("Invoke: the server saw %q, want the gateway's transport", got)
	}

	if srv.Draining() {
		t.Fatal("Draining before Stop")
	}
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if !srv.Draining() {
		t.Fatal("not Draining after Stop")
	}
}
