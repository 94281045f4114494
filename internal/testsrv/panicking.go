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

// NilStreams is an interceptor with another bug: the streams it serves
// return neither an iterator nor an error. Its unary calls and the
// streams it makes pass through.
type NilStreams struct{}

func (NilStreams) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc { return next }

func (NilStreams) WrapStreamingHandler(netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(context.Context, *netron.Call) (iter.Seq2[any, error], error) { return nil, nil }
}

func (NilStreams) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}
