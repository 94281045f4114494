package netron

import (
	"context"
	"reflect"
)

// fastInvoker calls a method of a common shape without reflection: it
// decodes the arguments into typed locals, calls the method through its
// concrete func type and returns its result. Methods of other shapes take
// the reflective path (decodeArgs, invoke); both accept, refuse and answer
// the same.
type fastInvoker func(ctx context.Context, call *Call) (any, error)

// fastShapes maps the func types of bound methods (without receiver) to
// the makers of their invokers: up to two arguments of the predeclared
// scalar types (two of the same type), results of those types, []byte or
// any, and methods that return only an error. A maker takes the method
// value (reflect's, as an interface) and asserts its concrete func type,
// so that the invoker calls it as Go code calls a func value, with typed
// arguments: no reflect.Value per argument, no []reflect.Value of results.
var fastShapes = map[reflect.Type]func(method any) fastInvoker{}

func init() {
	shapesFor[string]()
	shapesFor[bool]()
	shapesFor[int]()
	shapesFor[int64]()
	shapesFor[float64]()
	shapesFor[[]byte]()
	shapesFor[any]()
	addShape[func(context.Context) error](void0)
	addShape[func(context.Context, string) error](void1[string])
	addShape[func(context.Context, bool) error](void1[bool])
	addShape[func(context.Context, int) error](void1[int])
	addShape[func(context.Context, int64) error](void1[int64])
	addShape[func(context.Context, float64) error](void1[float64])
	addShape[func(context.Context, []byte) error](void1[[]byte])
}

// addShape registers mk for methods whose bound func type is F.
func addShape[F any](mk func(method any) fastInvoker) {
	fastShapes[reflect.TypeFor[F]()] = mk
}

// shapesFor registers the shapes with result type R.
func shapesFor[R any]() {
	addShape[func(context.Context) (R, error)](unary0[R])
	addShape[func(context.Context, string) (R, error)](unary1[string, R])
	addShape[func(context.Context, bool) (R, error)](unary1[bool, R])
	addShape[func(context.Context, int) (R, error)](unary1[int, R])
	addShape[func(context.Context, int64) (R, error)](unary1[int64, R])
	addShape[func(context.Context, float64) (R, error)](unary1[float64, R])
	addShape[func(context.Context, []byte) (R, error)](unary1[[]byte, R])
	addShape[func(context.Context, string, string) (R, error)](unary2[string, R])
	addShape[func(context.Context, bool, bool) (R, error)](unary2[bool, R])
	addShape[func(context.Context, int, int) (R, error)](unary2[int, R])
	addShape[func(context.Context, int64, int64) (R, error)](unary2[int64, R])
	addShape[func(context.Context, float64, float64) (R, error)](unary2[float64, R])
}

// fastInvokerFor returns the invoker of method name of recv, or nil when
// its shape has none.
func fastInvokerFor(recv reflect.Value, name string) fastInvoker {
	mv := recv.MethodByName(name)
	mk := fastShapes[mv.Type()]
	if mk == nil {
		return nil
	}
	return mk(mv.Interface())
}

// arg decodes argument i into a T; scalar targets stay on the caller's
// stack (protocol.UnmarshalScalar).
func arg[T any](call *Call, i int) (T, error) {
	lent := call.srv != nil && call.srv.lent
	v, kept, err := decodeAs[T](call.raw[i], call.limits, lent)
	if kept {
		call.srv.kept = true
	}
	if err != nil {
		return v, call.argError(i, err)
	}
	return v, nil
}

func unary0[R any](m any) fastInvoker {
	fn := m.(func(context.Context) (R, error))
	return func(ctx context.Context, call *Call) (_ any, err error) {
		if err := call.checkArity(); err != nil {
			return nil, err
		}
		call.reached = true
		defer call.recoverPanic(ctx, &err)
		r, err := fn(ctx)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

func unary1[A, R any](m any) fastInvoker {
	fn := m.(func(context.Context, A) (R, error))
	return func(ctx context.Context, call *Call) (_ any, err error) {
		if err := call.checkArity(); err != nil {
			return nil, err
		}
		a, err := arg[A](call, 0)
		if err != nil {
			return nil, err
		}
		call.reached = true
		defer call.recoverPanic(ctx, &err)
		r, err := fn(ctx, a)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

// unaryAB is the invoker of a method of two arguments of any types.
func unaryAB[A, B, R any](fn func(context.Context, A, B) (R, error)) fastInvoker {
	return func(ctx context.Context, call *Call) (_ any, err error) {
		if err := call.checkArity(); err != nil {
			return nil, err
		}
		a, err := arg[A](call, 0)
		if err != nil {
			return nil, err
		}
		b, err := arg[B](call, 1)
		if err != nil {
			return nil, err
		}
		call.reached = true
		defer call.recoverPanic(ctx, &err)
		r, err := fn(ctx, a, b)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

func unary2[A, R any](m any) fastInvoker {
	return unaryAB[A, A, R](m.(func(context.Context, A, A) (R, error)))
}

func void0(m any) fastInvoker {
	fn := m.(func(context.Context) error)
	return func(ctx context.Context, call *Call) (_ any, err error) {
		if err := call.checkArity(); err != nil {
			return nil, err
		}
		call.reached = true
		defer call.recoverPanic(ctx, &err)
		return nil, fn(ctx)
	}
}

func void1[A any](m any) fastInvoker {
	fn := m.(func(context.Context, A) error)
	return func(ctx context.Context, call *Call) (_ any, err error) {
		if err := call.checkArity(); err != nil {
			return nil, err
		}
		a, err := arg[A](call, 0)
		if err != nil {
			return nil, err
		}
		call.reached = true
		defer call.recoverPanic(ctx, &err)
		return nil, fn(ctx, a)
	}
}
