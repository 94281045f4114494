package testsrv

import (
	"context"
	"iter"

	"github.com/titanframework/titan/modules/netron"
)

// Panicking is an interceptor with a bug: every call and stream it serves
// or makes panics. Tests of the interceptors around it put it inside them.
type Panicking struct{}

func (Panicking) WrapUnary(netron.UnaryFunc) netron.UnaryFunc {
	return func(context.Context, *netron.Call) (any, error) { panic("an interceptor's bug") }
}

func (Panicking) WrapStreamingHandler(netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(context.Context, *netron.Call) (iter.Seq2[any, error], error) { panic("an interceptor's bug") }
}

func (Panicking) WrapStreamingClient(netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(context.Context, *netron.Call) (*netron.Stream, error) { panic("an interceptor's bug") }
}
