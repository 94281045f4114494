package unsafeutil

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// Svc has a method of every shape the makers take, over a receiver whose
// fields the methods read, so that a wrong receiver or argument shows.
type Svc struct {
	tag   string
	calls int
}

var errOdd = errors.New("odd")

func (s *Svc) S0(context.Context) (string, error)             { s.calls++; return s.tag, nil }
func (s *Svc) S1(_ context.Context, a string) (string, error) { s.calls++; return s.tag + a, nil }
func (s *Svc) S2(_ context.Context, a, b string) (string, error) {
	s.calls++
	return s.tag + a + b, nil
}
func (s *Svc) I2(_ context.Context, a, b int) (int, error) {
	s.calls++
	if (a+b)%2 != 0 {
		return 0, errOdd
	}
	return a*b + len(s.tag), nil
}
func (s *Svc) F1(_ context.Context, a float64) (float64, error) { return a * 2.5, nil }
func (s *Svc) B1(_ context.Context, a bool) (bool, error)       { return !a, nil }
func (s *Svc) L2(_ context.Context, a, b int64) (int64, error)  { return a<<20 | b, nil }
func (s *Svc) Y1(_ context.Context, a []byte) ([]byte, error) {
	return append([]byte(s.tag), a...), nil
}
func (s *Svc) A1(_ context.Context, a any) (any, error) { return fmt.Sprint(s.tag, a), nil }
func (s *Svc) V0(context.Context) error                 { s.calls++; return nil }
func (s *Svc) V1(_ context.Context, a int) error {
	s.calls++
	if a < 0 {
		return errOdd
	}
	return nil
}

// Val has a value receiver: binding copies it, as a method value would.
type Val struct{ n int }

func (v Val) Add(_ context.Context, a, b int) (int, error) { return v.n + a + b, nil }

// viaReflect calls method name of recv with args through reflect.
func viaReflect(recv any, name string, args ...any) []any {
	in := []reflect.Value{reflect.ValueOf(context.Background())}
	for _, a := range args {
		in = append(in, reflect.ValueOf(a))
	}
	var out []any
	for _, v := range reflect.ValueOf(recv).MethodByName(name).Call(in) {
		out = append(out, v.Interface())
	}
	return out
}

func bound(t *testing.T, recv any, name string) Method {
	t.Helper()
	m, ok := Bind(reflect.ValueOf(recv), name)
	if !ok {
		t.Fatalf("Bind(%T, %s) failed", recv, name)
	}
	return m
}

func same(t *testing.T, what string, got, want []any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: direct %#v, reflect %#v", what, got, want)
	}
}

// Every shape called directly answers what reflect answers, with the
// receiver's own state.
func TestAgreement(t *testing.T) {
	if !works() {
		t.Fatal("direct method calls do not work on this platform: the fast path is off")
	}
	ctx := context.Background()
	s := &Svc{tag: "t:"}
	r, err := Func0[string](bound(t, s, "S0"))(ctx)
	same(t, "S0", []any{r, err}, viaReflect(s, "S0"))
	r, err = Func1[string, string](bound(t, s, "S1"))(ctx, "a")
	same(t, "S1", []any{r, err}, viaReflect(s, "S1", "a"))
	r, err = Func2[string, string](bound(t, s, "S2"))(ctx, "a", "b")
	same(t, "S2", []any{r, err}, viaReflect(s, "S2", "a", "b"))
	for _, ab := range [][2]int{{3, 4}, {2, 4}, {-7, 1 << 40}} {
		i, err := Func2[int, int](bound(t, s, "I2"))(ctx, ab[0], ab[1])
		same(t, fmt.Sprint("I2", ab), []any{i, err}, viaReflect(s, "I2", ab[0], ab[1]))
	}
	f, err := Func1[float64, float64](bound(t, s, "F1"))(ctx, 1.5)
	same(t, "F1", []any{f, err}, viaReflect(s, "F1", 1.5))
	b, err := Func1[bool, bool](bound(t, s, "B1"))(ctx, true)
	same(t, "B1", []any{b, err}, viaReflect(s, "B1", true))
	l, err := Func2[int64, int64](bound(t, s, "L2"))(ctx, 5, 9)
	same(t, "L2", []any{l, err}, viaReflect(s, "L2", int64(5), int64(9)))
	y, err := Func1[[]byte, []byte](bound(t, s, "Y1"))(ctx, []byte{1, 2})
	same(t, "Y1", []any{y, err}, viaReflect(s, "Y1", []byte{1, 2}))
	a, err := Func1[any, any](bound(t, s, "A1"))(ctx, 42)
	same(t, "A1", []any{a, err}, viaReflect(s, "A1", any(42)))
	same(t, "V0", []any{Void0(bound(t, s, "V0"))(ctx)}, viaReflect(s, "V0"))
	same(t, "V1", []any{Void1[int](bound(t, s, "V1"))(ctx, -1)}, viaReflect(s, "V1", -1))

	// The bound receiver is the receiver itself: its state changes show.
	before := s.calls
	if _, err := Func0[string](bound(t, s, "S0"))(ctx); err != nil || s.calls != before+1 {
		t.Fatalf("a direct call on *Svc did not reach the receiver (calls %d -> %d)", before, s.calls)
	}
	// A value receiver is copied at Bind, as a method value copies it.
	v := Val{n: 100}
	add := Func2[int, int](bound(t, v, "Add"))
	v.n = 0
	if got, _ := add(ctx, 1, 2); got != 103 {
		t.Fatalf("Val.Add bound before the change = %d, want 103", got)
	}
	if _, ok := Bind(reflect.ValueOf(s), "Missing"); ok {
		t.Fatal("Bind of a missing method succeeded")
	}
}

func TestString(t *testing.T) {
	b := []byte("hello, world")
	if s := String(b[7:]); s != "world" {
		t.Fatalf("String = %q", s)
	}
	if s := String(b[:0]); s != "" {
		t.Fatalf("String of an empty slice = %q", s)
	}
	if s := String(nil); s != "" {
		t.Fatalf("String(nil) = %q", s)
	}
	if n := testing.AllocsPerRun(100, func() { _ = String(b) }); n != 0 {
		t.Fatalf("String allocates %v times", n)
	}
}
