package netron_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/validate"
)

// Typed has methods of the shapes called without reflection; Named has
// the same methods over named types, which take the reflective path. Both
// must answer every call alike.
type Typed struct{}

func (Typed) Echo(_ context.Context, s string) (string, error)   { return s, nil }
func (Typed) Add(_ context.Context, a, b int) (int, error)       { return a + b, nil }
func (Typed) Half(_ context.Context, f float64) (float64, error) { return f / 2, nil }
func (Typed) Not(_ context.Context, b bool) (bool, error)        { return !b, nil }
func (Typed) Bytes(_ context.Context, s string) ([]byte, error)  { return []byte(s), nil }
func (Typed) Fail(_ context.Context, s string) error {
	if s == "" {
		return nil
	}
	return netron.Errorf(netron.CodeFailedPrecondition, "failing on %q", s)
}
func (Typed) Boom(_ context.Context, n int64) (int64, error)   { panic(fmt.Sprint("boom ", n)) }
func (Typed) Now(_ context.Context) (string, error)            { return "now", nil }
func (Typed) Blob(_ context.Context, b []byte) ([]byte, error) { return append(b, '!'), nil }

type (
	nStr   string
	nInt   int
	nFloat float64
	nBool  bool
	nI64   int64
	nBytes []byte
)

type Named struct{}

func (Named) Echo(_ context.Context, s nStr) (nStr, error)     { return s, nil }
func (Named) Add(_ context.Context, a, b nInt) (nInt, error)   { return a + b, nil }
func (Named) Half(_ context.Context, f nFloat) (nFloat, error) { return f / 2, nil }
func (Named) Not(_ context.Context, b nBool) (nBool, error)    { return !b, nil }
func (Named) Bytes(_ context.Context, s nStr) ([]byte, error)  { return []byte(s), nil }
func (Named) Fail(_ context.Context, s nStr) error {
	return Typed{}.Fail(context.Background(), string(s))
}
func (Named) Boom(_ context.Context, n nI64) (nI64, error)     { panic(fmt.Sprint("boom ", n)) }
func (Named) Now(_ context.Context) (nStr, error)              { return "now", nil }
func (Named) Blob(_ context.Context, b nBytes) ([]byte, error) { return append(b, '!'), nil }

// With validation off both paths enforce the argument types by decoding
// and must answer alike, messages included; with validation on, named types
// go through the schema validator, whose messages are worded differently,
// so codes must agree and both must name the contract.
func TestFastPathAnswersLikeReflection(t *testing.T) {
	t.Parallel()
	for _, noval := range []bool{true, false} {
		t.Run(fmt.Sprintf("validate=%v", !noval), func(t *testing.T) { fastVsReflect(t, noval) })
	}
}

func fastVsReflect(t *testing.T, noval bool) {
	var (
		mu   sync.Mutex
		seen = map[string][]any{} // service.method -> Args() after the call
	)
	record := netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			res, err := next(ctx, call)
			if !call.IsClient() {
				mu.Lock()
				seen[call.Service+"."+call.Method] = call.Args()
				mu.Unlock()
			}
			return res, err
		}
	})
	ics := []netron.Interceptor{record}
	if !noval {
		ics = append(ics, validate.New(nil))
	}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(ics...))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("typed", "1.0.0", Typed{}); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("named", "1.0.0", Named{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"echo", "add", "half", "not", "bytes", "fail", "boom", "now", "blob"} {
		if !netron.FastPath(n, "typed@1.0.0", m) {
			t.Errorf("typed.%s is not on the fast path", m)
		}
		if netron.FastPath(n, "named@1.0.0", m) {
			t.Errorf("named.%s is on the fast path", m)
		}
	}
	bound, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	p := dial(t, bound)

	calls := []struct {
		method string
		args   []any
	}{
		{"echo", []any{"hello"}}, {"echo", []any{nil}}, {"echo", []any{42}}, {"echo", nil}, {"echo", []any{"a", "b"}},
		{"add", []any{2, 3}}, {"add", []any{2.0, 3}}, {"add", []any{2.5, 3}}, {"add", []any{"2", 3}}, {"add", []any{int64(1 << 40), 1}},
		{"half", []any{3}}, {"half", []any{true}},
		{"not", []any{true}}, {"not", []any{nil}}, {"not", []any{0}},
		{"bytes", []any{"xyz"}},
		{"fail", []any{""}}, {"fail", []any{"why"}}, {"fail", []any{7}},
		{"boom", []any{7}},
		{"now", nil}, {"now", []any{1}},
		{"blob", []any{[]byte("xyz")}}, {"blob", []any{"text"}}, {"blob", []any{nil}}, {"blob", []any{7}}, {"blob", []any{[]byte{}}},
	}
	ctx := context.Background()
	for _, c := range calls {
		name := fmt.Sprintf("%s%v", c.method, c.args)
		tr, terr := p.Call(ctx, "typed@1.0.0", c.method, c.args...)
		nr, nerr := p.Call(ctx, "named@1.0.0", c.method, c.args...)
		if (terr == nil) != (nerr == nil) {
			t.Fatalf("%s: fast path %v, reflective path %v", name, terr, nerr)
		}
		if terr != nil {
			tm := strings.ReplaceAll(terr.Error(), "typed@1.0.0", "S")
			nm := strings.NewReplacer("named@1.0.0", "S", // the Go type names differ by design
				"netron_test.nStr", "string", "netron_test.nInt", "int", "netron_test.nFloat", "float64",
				"netron_test.nBool", "bool", "netron_test.nI64", "int64").Replace(nerr.Error())
			same := tm == nm
			if netron.CodeOf(terr) != netron.CodeOf(nerr) || !same {
				t.Fatalf("%s: fast path %v (%s), reflective path %v (%s)", name, terr, netron.CodeOf(terr), nerr, netron.CodeOf(nerr))
			}
			continue
		}
		tv, err1 := tr.Value()
		nv, err2 := nr.Value()
		if err1 != nil || err2 != nil || fmt.Sprint(tv) != fmt.Sprint(nv) || fmt.Sprintf("%T", tv) != fmt.Sprintf("%T", nv) {
			t.Fatalf("%s: fast path %#v (%v), reflective path %#v (%v)", name, tv, err1, nv, err2)
		}
		mu.Lock()
		ta, na := seen["typed@1.0.0."+c.method], seen["named@1.0.0."+c.method]
		mu.Unlock()
		if len(ta) != len(c.args) || fmt.Sprint(ta) != fmt.Sprint(na) {
			t.Fatalf("%s: Args() after the call: fast path %v, reflective path %v", name, ta, na)
		}
	}
	// A method's own error keeps its code through the fast path.
	_, err = p.Call(ctx, "typed@1.0.0", "fail", "why")
	if netron.CodeOf(err) != netron.CodeFailedPrecondition || !strings.Contains(err.Error(), `failing on "why"`) {
		t.Fatalf("fail: %v", err)
	}
}

// Tally has a pointer receiver with state; Salute a value receiver with
// state. The fast path calls the method code with the receiver itself, so
// both must see their own fields.
type Tally struct {
	mu sync.Mutex
	n  int64
}

func (t *Tally) Add(_ context.Context, d int64) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n += d
	return t.n, nil
}

func (t *Tally) Twice(_ context.Context, a, b string) (string, error) { return a + b + a + b, nil }

type Salute struct {
	Prefix string
	Pad    [3]int64 // a receiver larger than a word
}

func (g Salute) Greet(_ context.Context, s string) (string, error) {
	return fmt.Sprint(g.Prefix, s, g.Pad[2]), nil
}

func TestFastPathReceivers(t *testing.T) {
	t.Parallel()
	tally := &Tally{n: 100}
	n, p := serveOnTCP(t, map[string]any{"tally": tally, "greeter": Salute{Prefix: "hi ", Pad: [3]int64{0, 0, 7}}})
	for _, sm := range [][2]string{{"tally@1.0.0", "add"}, {"tally@1.0.0", "twice"}, {"greeter@1.0.0", "greet"}} {
		if !netron.FastPath(n, sm[0], sm[1]) {
			t.Fatalf("%s.%s is not on the fast path", sm[0], sm[1])
		}
	}
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := netron.CallUnary[int64](ctx, p, "tally@1.0.0", "add", 2); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got, err := netron.CallUnary[int64](ctx, p, "tally@1.0.0", "add", 0); err != nil || got != 900 {
		t.Fatalf("tally after 400 adds of 2 from 100: %d, %v; want 900", got, err)
	}
	tally.mu.Lock()
	held := tally.n
	tally.mu.Unlock()
	if held != 900 {
		t.Fatalf("the registered *Tally holds %d, want 900: the method ran on another receiver", held)
	}
	if got, err := netron.CallUnary[string](ctx, p, "tally@1.0.0", "twice", "a", "b"); err != nil || got != "abab" {
		t.Fatalf("twice: %q, %v", got, err)
	}
	if got, err := netron.CallUnary[string](ctx, p, "greeter@1.0.0", "greet", "bob"); err != nil || got != "hi bob7" {
		t.Fatalf("greet: %q, %v; want %q", got, err, "hi bob7")
	}
}
