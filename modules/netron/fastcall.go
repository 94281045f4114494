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
// any, and methods that return only an error.
var fastShapes = map[reflect.Type]func(fn any) fastInvoker{}

func init() {
	shapesFor[string]()
	shapesFor[bool]()
	shapesFor[int]()
	shapesFor[int64]()
	shapesFor[float64]()
	shapesFor[[]byte]()
	shapesFor[any]()
	addShape(void0)
	addShape(void1[string])
	addShape(void1[bool])
	addShape(void1[int])
	addShape(void1[int64])
	addShape(void1[float64])
}

func addShape[F any](mk func(F) fastInvoker) {
	fastShapes[reflect.TypeFor[F]()] = func(fn any) fastInvoker { return mk(fn.(F)) }
}

// shapesFor registers the shapes with result type R.
func shapesFor[R any]() {
	addShape(unary0[R])
	addShape(unary1[string, R])
	addShape(unary1[bool, R])
	addShape(unary1[int, R])
	addShape(unary1[int64, R])
	addShape(unary1[float64, R])
	addShape(unary2[string, R])
	addShape(unary2[bool, R])
	addShape(unary2[int, R])
	addShape(unary2[int64, R])
	addShape(unary2[float64, R])
}

// fastInvokerFor returns the invoker of a bound method value, or nil when
// its shape has none.
func fastInvokerFor(fn reflect.Value) fastInvoker {
	if mk := fastShapes[fn.Type()]; mk != nil {
		return mk(fn.Interface())
	}
	return nil
}

// arg decodes argument i into a T; scalar targets stay on the caller's
// stack (protocol.UnmarshalScalar).
func arg[T any](call *Call, i int) (T, error) {
	v, err := decodeAs[T](call.raw[i], call.limits)
	if err != nil {
		return v, call.argError(i, err)
	}
	return v, nil
}

func unary0[R any](fn func(context.Context) (R, error)) fastInvoker {
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

func unary1[A, R any](fn func(context.Context, A) (R, error)) fastInvoker {
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

func unary2[A, R any](fn func(context.Context, A, A) (R, error)) fastInvoker {
	return func(ctx context.Context, call *Call) (_ any, err error) {
		if err := call.checkArity(); err != nil {
			return nil, err
		}
		a, err := arg[A](call, 0)
		if err != nil {
			return nil, err
		}
		b, err := arg[A](call, 1)
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

func void0(fn func(context.Context) error) fastInvoker {
	return func(ctx context.Context, call *Call) (_ any, err error) {
		if err := call.checkArity(); err != nil {
			return nil, err
		}
		call.reached = true
		defer call.recoverPanic(ctx, &err)
		return nil, fn(ctx)
	}
}

func void1[A any](fn func(context.Context, A) error) fastInvoker {
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
