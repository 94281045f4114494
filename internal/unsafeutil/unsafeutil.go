// Package unsafeutil holds every use of package unsafe in Titan, each a
// measured win with a test that holds it to the safe code it replaces:
//
//   - [String]: a string that shares a byte slice's memory, for parsers
//     that look a token up or parse a number without copying it;
//   - [Bind] and the Func and Void makers: a method of a common shape
//     called through its code directly, instead of through reflect's
//     method-value trampoline (about 300 ns, an allocation, and a large
//     stack frame that grows each request goroutine's stack).
//
// The method call reinterprets the method expression of a pointer
// receiver, func(*T, ...), as func(unsafe.Pointer, ...): *T and
// unsafe.Pointer have one representation, so every calling convention Go
// has passes them alike. [Bind] checks this once per process on a probe
// method and reports false when the check fails, and callers then take
// the reflective path; TestAgreement holds every shape to reflect.
package unsafeutil

import (
	"context"
	"reflect"
	"sync"
	"unsafe"
)

// String returns a string sharing b's memory: b must not change while the
// string (or any string sliced from it) is in use.
func String(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Method is a method's code and its receiver, bound once.
type Method struct {
	code unsafe.Pointer // the func value of the method expression (*T).M
	recv unsafe.Pointer // the *T
}

// Bind returns the method name of recv for calling it through the Func
// and Void makers, which must be given its exact shape (the caller matches
// the bound method's type first). A receiver that is not a pointer is
// copied once into a new variable, as binding a method value copies it. It
// reports false when the method does not exist or when direct calls do not
// work on this platform.
func Bind(recv reflect.Value, name string) (Method, bool) {
	if !works() {
		return Method{}, false
	}
	return bind(recv, name)
}

func bind(recv reflect.Value, name string) (Method, bool) {
	if recv.Kind() != reflect.Pointer {
		p := reflect.New(recv.Type())
		p.Elem().Set(recv)
		recv = p
	}
	expr, ok := recv.Type().MethodByName(name)
	if !ok {
		return Method{}, false
	}
	fn := expr.Func.Interface() // a func value: the interface's data word is the func
	return Method{code: (*[2]unsafe.Pointer)(unsafe.Pointer(&fn))[1], recv: recv.UnsafePointer()}, true
}

// as returns the method's code as a func of type F, whose first parameter
// is an unsafe.Pointer where the method's is a *T.
func as[F any](m Method) F {
	return *(*F)(unsafe.Pointer(&m.code))
}

// Func0 returns a call of a method func(ctx) (R, error).
func Func0[R any](m Method) func(context.Context) (R, error) {
	fn, recv := as[func(unsafe.Pointer, context.Context) (R, error)](m), m.recv
	return func(ctx context.Context) (R, error) { return fn(recv, ctx) }
}

// Func1 returns a call of a method func(ctx, A) (R, error).
func Func1[A, R any](m Method) func(context.Context, A) (R, error) {
	fn, recv := as[func(unsafe.Pointer, context.Context, A) (R, error)](m), m.recv
	return func(ctx context.Context, a A) (R, error) { return fn(recv, ctx, a) }
}

// Func2 returns a call of a method func(ctx, A, A) (R, error).
func Func2[A, R any](m Method) func(context.Context, A, A) (R, error) {
	fn, recv := as[func(unsafe.Pointer, context.Context, A, A) (R, error)](m), m.recv
	return func(ctx context.Context, a, b A) (R, error) { return fn(recv, ctx, a, b) }
}

// Void0 returns a call of a method func(ctx) error.
func Void0(m Method) func(context.Context) error {
	fn, recv := as[func(unsafe.Pointer, context.Context) error](m), m.recv
	return func(ctx context.Context) error { return fn(recv, ctx) }
}

// Void1 returns a call of a method func(ctx, A) error.
func Void1[A any](m Method) func(context.Context, A) error {
	fn, recv := as[func(unsafe.Pointer, context.Context, A) error](m), m.recv
	return func(ctx context.Context, a A) error { return fn(recv, ctx, a) }
}

// probe is the method works calls directly: it reads its receiver and
// every argument, so a wrong calling convention gives a wrong answer.
type probe struct{ base int64 }

func (p *probe) Mix(_ context.Context, a, b int64) (int64, error) {
	return p.base*1_000_000 + a*1_000 + b, nil
}

var works = sync.OnceValue(func() bool {
	p := &probe{base: 7}
	m, ok := bind(reflect.ValueOf(p), "Mix")
	if !ok {
		return false
	}
	got, err := Func2[int64, int64](m)(context.Background(), 11, 13)
	return err == nil && got == 7_011_013
})
