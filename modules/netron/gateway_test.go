package netron_test

import (
	"context"
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
