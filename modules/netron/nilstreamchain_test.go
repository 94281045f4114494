package netron_test

import (
	"context"
	"iter"
	"log/slog"
	"strings"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
)

// ranging is an interceptor that ranges over the iterator its next
// returns, as every interceptor that watches a stream's items does.
type ranging struct{ netron.UnaryInterceptorFunc }

func (ranging) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		seq, err := next(ctx, call)
		if err != nil {
			return nil, err
		}
		return func(yield func(any, error) bool) {
			for v, err := range seq {
				if !yield(v, err) {
					return
				}
			}
		}, nil
	}
}

// An inner interceptor's stream handler returning neither an iterator nor
// an error is refused by the engine before the interceptor outside it
// gets it: that one is handed an internal error, not a nil iterator to
// range over, and the log names the bug, with no panic.
func TestNilStreamRefusedBetweenInterceptors(t *testing.T) {
	var logs testsrv.LogBuffer
	n, err := netron.New(netron.Config{}, slog.New(slog.NewTextHandler(&logs, nil)),
		netron.WithInterceptors(ranging{func(next netron.UnaryFunc) netron.UnaryFunc { return next }}, testsrv.NilStreams{}))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	seq, err := n.InvokeStream(context.Background(), &netron.Invocation{Service: "calculator@1.0.0", Method: "count", Transport: "http"})
	if err == nil {
		for _, e := range seq {
			if e != nil {
				err = e
			}
		}
	}
	if netron.CodeOf(err) != netron.CodeInternal {
		t.Errorf("a stream whose inner interceptor returned (nil, nil): %v, want internal", err)
	}
	out := logs.String()
	if strings.Contains(out, "panicked") || strings.Count(out, "returned neither an iterator nor an error") != 1 {
		t.Errorf("log:\n%s\nwant the nil iterator named once, no panic", out)
	}
}
