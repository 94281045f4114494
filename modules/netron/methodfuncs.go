package netron

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// MethodFunc is a method of a service given to Netron as a Go function
// value of its own type, made by [Func0], [Func1], [Func2], [Void0],
// [Void1], [Stream0], [Stream1] or [Stream2] from the bound method
// (s.Place). Netron calls it as Go code calls
// a func value: the arguments are decoded into their Go types and the
// method is called directly, with no reflection on the call, for any
// argument and result types. A method that Netron finds only by
// reflection is called through reflect's method value (scalar shapes) or
// reflect.Value.Call (others), which costs about 0.3 µs and one
// allocation more per call, and more for struct arguments.
//
// A service hands its MethodFuncs over by implementing [MethodFuncs].
type MethodFunc struct {
	typ    reflect.Type // the func type of the method value
	nilFn  bool
	inv    fastInvoker   // a unary or void method's
	stream streamInvoker // a stream method's
}

// streamInvoker calls a stream method without reflection: it decodes the
// arguments into typed locals and returns the method's iterator, its
// items as any.
type streamInvoker func(ctx context.Context, call *Call) (iter.Seq2[any, error], error)

// Func0 is a method that takes only its context.
func Func0[R any](fn func(context.Context) (R, error)) MethodFunc {
	return MethodFunc{typ: reflect.TypeOf(fn), nilFn: fn == nil, inv: unary0[R](fn)}
}

// Func1 is a method of one argument.
func Func1[A, R any](fn func(context.Context, A) (R, error)) MethodFunc {
	return MethodFunc{typ: reflect.TypeOf(fn), nilFn: fn == nil, inv: unary1[A, R](fn)}
}

// Func2 is a method of two arguments.
func Func2[A, B, R any](fn func(context.Context, A, B) (R, error)) MethodFunc {
	return MethodFunc{typ: reflect.TypeOf(fn), nilFn: fn == nil, inv: unaryAB[A, B, R](fn)}
}

// Void0 is a method that takes only its context and returns only an error.
func Void0(fn func(context.Context) error) MethodFunc {
	return MethodFunc{typ: reflect.TypeOf(fn), nilFn: fn == nil, inv: void0(fn)}
}

// Void1 is a method of one argument that returns only an error.
func Void1[A any](fn func(context.Context, A) error) MethodFunc {
	return MethodFunc{typ: reflect.TypeOf(fn), nilFn: fn == nil, inv: void1[A](fn)}
}

// Stream0 is a stream method that takes only its context.
func Stream0[T any](fn func(context.Context) iter.Seq2[T, error]) MethodFunc {
	return MethodFunc{typ: reflect.TypeOf(fn), nilFn: fn == nil, stream: streamVia(unary0[iter.Seq2[any, error]](
		func(ctx context.Context) (iter.Seq2[any, error], error) { return typedSeq(fn(ctx)), nil }))}
}

// Stream1 is a stream method of one argument.
func Stream1[A, T any](fn func(context.Context, A) iter.Seq2[T, error]) MethodFunc {
	return MethodFunc{typ: reflect.TypeOf(fn), nilFn: fn == nil, stream: streamVia(unary1[A, iter.Seq2[any, error]](
		func(ctx context.Context, a A) (iter.Seq2[any, error], error) { return typedSeq(fn(ctx, a)), nil }))}
}

// Stream2 is a stream method of two arguments.
func Stream2[A, B, T any](fn func(context.Context, A, B) iter.Seq2[T, error]) MethodFunc {
	return MethodFunc{typ: reflect.TypeOf(fn), nilFn: fn == nil, stream: streamVia(unaryAB[A, B, iter.Seq2[any, error]](
		func(ctx context.Context, a A, b B) (iter.Seq2[any, error], error) {
			return typedSeq(fn(ctx, a, b)), nil
		}))}
}

// streamVia is the stream invoker of a method whose unary invoker (which
// decodes the arguments, calls it and recovers its panic) returns its
// iterator.
func streamVia(inv fastInvoker) streamInvoker {
	return func(ctx context.Context, call *Call) (iter.Seq2[any, error], error) {
		seq, err := inv(ctx, call)
		if err != nil {
			return nil, err
		}
		return seq.(iter.Seq2[any, error]), nil
	}
}

// typedSeq is s with its items as any; a nil iterator yields nothing, as
// on the reflective path.
func typedSeq[T any](s iter.Seq2[T, error]) iter.Seq2[any, error] {
	if s == nil {
		return func(func(any, error) bool) {}
	}
	return anySeq(s)
}

// MethodFuncs is implemented by a service that gives Netron its methods
// as Go function values (see [MethodFunc]), keyed by their Go names:
//
//	func (s *Orders) NetronMethods() map[string]netron.MethodFunc {
//		return map[string]netron.MethodFunc{
//			"Place": netron.Func1(s.Place),
//			"Get":   netron.Func1(s.Get),
//		}
//	}
//
// Each value must be the bound method of the service value itself (s.Place
// for "Place"): Netron checks its type against the method's, not which
// function it is. NetronMethods is called once, when the service is
// registered; a name that is not a public method of the service, a value
// of another type than the method's, or a nil function fails the
// registration with an error naming it. Methods the map leaves out are
// found by reflection as before; the contract, the interceptors and the
// answers are the same either way.
type MethodFuncs interface {
	NetronMethods() map[string]MethodFunc
}

// methodFuncsOf returns impl's MethodFuncs, checked against its public
// methods, keyed by Go name; nil when impl gives none.
func methodFuncsOf(impl any, public map[string]reflect.Type) (map[string]MethodFunc, error) {
	mf, ok := impl.(MethodFuncs)
	if !ok {
		return nil, nil
	}
	funcs := mf.NetronMethods()
	var errs []string
	for _, name := range slices.Sorted(maps.Keys(funcs)) {
		f := funcs[name]
		where := fmt.Sprintf("NetronMethods()[%q]", name)
		want, ok := public[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("%s: %T has no public method %s (one of %s)", where, impl, name, strings.Join(slices.Sorted(maps.Keys(public)), ", ")))
		case f.inv == nil && f.stream == nil:
			errs = append(errs, fmt.Sprintf("%s is the zero MethodFunc: make it with netron.Func0, Func1, Func2, Void0, Void1, Stream0, Stream1 or Stream2", where))
		case f.nilFn:
			errs = append(errs, fmt.Sprintf("%s is a nil func", where))
		case f.typ != want:
			errs = append(errs, fmt.Sprintf("%s is a %v, but method %s is a %v", where, f.typ, name, want))
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return funcs, nil
}
