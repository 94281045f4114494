package netron_test

import (
	"context"
	"iter"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

func raws(t *testing.T, args ...any) []protocol.RawValue {
	t.Helper()
	out := make([]protocol.RawValue, len(args))
	for i, a := range args {
		b, err := protocol.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func TestInvoke(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mem")
	ctx := context.Background()
	res, err := s.n.Invoke(ctx, &netron.Invocation{Service: "calculator@^1", Method: "add", Args: raws(t, 2, 3), Transport: "http"})
	if err != nil || res != 5.0 {
		t.Fatalf("add = %v, %v", res, err)
	}
	_, err = s.n.Invoke(ctx, &netron.Invocation{Service: "calculator", Method: "add", Args: raws(t, "x", 3)})
	if netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("violation: %v", err)
	}
	_, err = s.n.Invoke(ctx, &netron.Invocation{Service: "calculator", Method: "count", Args: raws(t, 3)})
	if netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("stream through Invoke: %v", err)
	}
	seq, err := s.n.InvokeStream(ctx, &netron.Invocation{Service: "calculator@1.0.0", Method: "count", Args: raws(t, 3)})
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if len(got) != 3 || got[2] != 2 {
		t.Fatalf("count = %v", got)
	}
	descs := s.n.Describe()
	if len(descs) != 1 || descs[0].Name != "calculator" || len(descs[0].Methods) == 0 {
		t.Fatalf("describe = %+v", descs)
	}
}

type gatewayPanics struct{}

type gatewayPoint struct {
	X int `json:"x"`
}

func (gatewayPanics) Quick(context.Context) (int, error) { panic("quick boom") }

func (gatewayPanics) Point(_ context.Context, p gatewayPoint) (int, error) { panic("point boom") }

func (gatewayPanics) Ticks(context.Context) iter.Seq2[int, error] { panic("ticks boom") }

// TestInvokeLogsMethodPanics: a method that panics under Netron.Invoke or
// InvokeStream (the door of the HTTP and NATS gateways, whose calls come
// with no peer) answers an internal error and, as over a connection, the
// panic goes to the log with the service and method, by the fast path and
// the reflective one alike.
func TestInvokeLogsMethodPanics(t *testing.T) {
	t.Parallel()
	log, rec := captureLogger()
	n, err := netron.New(netron.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("panics", "1.0.0", gatewayPanics{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		method string
		args   []protocol.RawValue
		panic  string
	}{
		{"quick", nil, "quick boom"},
		{"point", raws(t, map[string]any{"x": 1}), "point boom"},
	} {
		_, err := n.Invoke(ctx, &netron.Invocation{Service: "panics", Method: tc.method, Args: tc.args, Transport: "http"})
		if netron.CodeOf(err) != netron.CodeInternal {
			t.Fatalf("%s: %v, want internal", tc.method, err)
		}
		if rec.count("method panicked", "service=panics@1.0.0", "method="+tc.method, "panic="+tc.panic) != 1 {
			t.Errorf("%s: the panic was not logged", tc.method)
		}
	}
	_, err = n.InvokeStream(ctx, &netron.Invocation{Service: "panics", Method: "ticks", Transport: "http"})
	if netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("ticks: %v, want internal", err)
	}
	if rec.count("method panicked", "service=panics@1.0.0", "method=ticks", "panic=ticks boom") != 1 {
		t.Errorf("ticks: the panic was not logged")
	}
}
