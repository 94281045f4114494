package netron_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// panicky panics in the serving chain of calculator.div and of the opening
// of producer.items, as an interceptor with a bug would on what one caller
// sends.
type panicky struct{}

func (panicky) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if !call.IsClient() && call.Method == "div" {
			panic("interceptor bug")
		}
		return next(ctx, call)
	}
}

func (panicky) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		if call.Method == "items" {
			panic("interceptor bug")
		}
		return next(ctx, call)
	}
}

func (panicky) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}

// A panic in an interceptor ends the call it was serving with an internal
// error, logged with the method, and nothing else: the connection, the
// other calls and the process go on, and Stop still returns (a stream
// opened through the gateways' door counts as in flight until it ends).
// Before, the panic of a call served over a stream transport ended the
// process, and one through InvokeStream left Stop waiting forever.
func TestInterceptorPanicEndsOnlyItsCall(t *testing.T) {
	t.Parallel()
	log, rec := captureLogger()
	s, _ := netronServer(t, "tcp", netron.Config{}, log, netron.WithInterceptors(panicky{}))
	p := dialWith(t, s.addr, netron.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	if _, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "div", 1, 2); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("div through a panicking interceptor: %v, want an internal error", err)
	}
	items := 0
	for _, err := range netron.CallStream[string](ctx, p, "producer@1.0.0", "items", 3, 1) {
		if netron.CodeOf(err) != netron.CodeInternal {
			t.Fatalf("items through a panicking interceptor: %v, want an internal error", err)
		}
		items++
	}
	if items != 1 {
		t.Fatalf("the stream yielded %d times, want its error alone", items)
	}
	if v, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
		t.Fatalf("add on the same connection after the panics: %v, %v", v, err)
	}
	rec.waitFor(t, "call panicked in an interceptor", "method=div", "panic=interceptor bug")
	rec.waitFor(t, "call panicked in an interceptor", "method=items")

	if _, err := s.n.InvokeStream(ctx, &netron.Invocation{Service: "producer@1.0.0", Method: "items"}); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("InvokeStream through a panicking interceptor: %v, want an internal error", err)
	}
	stopCtx, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	if err := s.n.Stop(stopCtx); err != nil {
		t.Fatalf("Stop after a stream opening panicked: %v", err)
	}
}
