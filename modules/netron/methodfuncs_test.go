package netron_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/validate"
)

// Ticket is a struct argument and result with a contract of its own.
type Ticket struct {
	ID    int64    `json:"id"`
	Item  string   `json:"item" jsonschema:"minLength=1,maxLength=20"`
	Qty   int      `json:"qty" jsonschema:"minimum=1"`
	Email string   `json:"email" jsonschema:"format=email"`
	Tags  []string `json:"tags,omitempty"`
}

// Booth has methods of every MethodFunc kind over struct, pointer and
// scalar types, streams included; Tabled gives its methods as
// MethodFuncs, so that both must answer every call alike.
type Booth struct{ placed atomic.Int64 }

func (c *Booth) Place(_ context.Context, t Ticket) (Ticket, error) {
	c.placed.Add(1)
	t.ID = c.placed.Load()
	return t, nil
}

func (c *Booth) Price(_ context.Context, item string, qty int) (float64, error) {
	if qty > 100 {
		return 0, netron.Errorf(netron.CodeOutOfRange, "at most 100 %s", item)
	}
	return float64(qty) * 1.5, nil
}

func (c *Booth) Placed(_ context.Context) (int64, error) { return c.placed.Load(), nil }
func (c *Booth) Reset(_ context.Context) error           { c.placed.Store(0); return nil }

func (c *Booth) Cancel(_ context.Context, t *Ticket) error {
	if t == nil {
		return netron.Errorf(netron.CodeInvalidArgument, "no ticket")
	}
	return nil
}

func (c *Booth) Crash(_ context.Context, t Ticket) (string, error) { panic("crash on " + t.Item) }

func (c *Booth) Watch(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

// Tickets streams n tickets for item.
func (c *Booth) Tickets(_ context.Context, item string, n int) iter.Seq2[Ticket, error] {
	return func(yield func(Ticket, error) bool) {
		for i := range n {
			if i == 3 {
				yield(Ticket{}, netron.Errorf(netron.CodeResourceExhausted, "only 3 %s", item))
				return
			}
			if !yield(Ticket{ID: int64(i + 1), Item: item, Qty: 1, Email: "ada@example.com"}, nil) {
				return
			}
		}
	}
}

// Nothing returns a nil iterator: an empty stream.
func (c *Booth) Nothing(_ context.Context) iter.Seq2[*Ticket, error] { return nil }

type Tabled struct{ Booth }

func (s *Tabled) NetronMethods() map[string]netron.MethodFunc {
	return map[string]netron.MethodFunc{
		"Place":   netron.Func1(s.Place),
		"Price":   netron.Func2(s.Price),
		"Placed":  netron.Func0(s.Placed),
		"Reset":   netron.Void0(s.Reset),
		"Cancel":  netron.Void1(s.Cancel),
		"Crash":   netron.Func1(s.Crash),
		"Watch":   netron.Stream1(s.Watch),
		"Tickets": netron.Stream2(s.Tickets),
		"Nothing": netron.Stream0(s.Nothing),
	}
}

// TestMethodFuncsAnswerLikeReflection: a service that gives its methods as
// MethodFuncs is served on the fast path for every method it names (struct
// arguments included), and answers every call, refusal and panic as the
// same methods found by reflection do, through the validation interceptor.
func TestMethodFuncsAnswerLikeReflection(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen = map[string]string{} // service -> Args() after its last call
	)
	record := netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			res, err := next(ctx, call)
			if !call.IsClient() {
				mu.Lock()
				seen[call.Service] = fmt.Sprint(call.Args())
				mu.Unlock()
			}
			return res, err
		}
	})
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(record, validate.New(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("tabled", "1.0.0", &Tabled{}); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("plain", "1.0.0", &Booth{}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"place", "price", "placed", "reset", "cancel", "crash"} {
		if !netron.FastPath(n, "tabled@1.0.0", m) {
			t.Errorf("tabled.%s is not on the fast path", m)
		}
	}
	for _, m := range []string{"place", "cancel", "crash"} {
		if netron.FastPath(n, "plain@1.0.0", m) {
			t.Errorf("plain.%s is on the fast path without a MethodFunc", m)
		}
	}
	for _, m := range []string{"watch", "tickets", "nothing"} {
		if !netron.FastStream(n, "tabled@1.0.0", m) {
			t.Errorf("tabled.%s is not a stream called without reflection", m)
		}
		if netron.FastStream(n, "plain@1.0.0", m) {
			t.Errorf("plain.%s is a stream called without reflection, with no MethodFunc", m)
		}
	}
	bound, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	p := dial(t, bound)

	good := map[string]any{"item": "book", "qty": 2, "email": "ada@example.com", "tags": []string{"a"}}
	calls := []struct {
		method string
		args   []any
	}{
		{"place", []any{good}},
		{"place", []any{map[string]any{"item": "", "qty": 2, "email": "ada@example.com"}}}, // minLength
		{"place", []any{map[string]any{"item": "book", "qty": 0, "email": "ada@example.com"}}},
		{"place", []any{map[string]any{"item": "book", "qty": 1, "email": "not an email"}}},
		{"place", []any{map[string]any{"item": "book", "qty": "two", "email": "ada@example.com"}}},
		{"place", []any{"a string"}}, {"place", []any{nil}}, {"place", nil}, {"place", []any{good, good}},
		{"place", []any{map[string]any{"item": "book", "qty": 1, "email": "ada@example.com", "extra": true}}},
		{"price", []any{"pen", 3}}, {"price", []any{"pen", 300}}, {"price", []any{"pen", "3"}}, {"price", []any{3, 3}},
		{"price", []any{"pen"}}, {"price", []any{"pen", 2.5}},
		{"placed", nil}, {"placed", []any{1}},
		{"reset", nil},
		{"cancel", []any{good}}, {"cancel", []any{nil}}, {"cancel", []any{7}},
		{"crash", []any{good}},
		{"placed", nil},
	}
	ctx := context.Background()
	for _, c := range calls {
		name := fmt.Sprintf("%s%v", c.method, c.args)
		tr, terr := p.Call(ctx, "tabled@1.0.0", c.method, c.args...)
		pr, perr := p.Call(ctx, "plain@1.0.0", c.method, c.args...)
		if (terr == nil) != (perr == nil) {
			t.Fatalf("%s: MethodFuncs %v, reflection %v", name, terr, perr)
		}
		if terr != nil {
			tm := strings.ReplaceAll(terr.Error(), "tabled@1.0.0", "S")
			pm := strings.ReplaceAll(perr.Error(), "plain@1.0.0", "S")
			if netron.CodeOf(terr) != netron.CodeOf(perr) || tm != pm {
				t.Fatalf("%s: MethodFuncs %v (%s), reflection %v (%s)", name, terr, netron.CodeOf(terr), perr, netron.CodeOf(perr))
			}
			continue
		}
		tv, err1 := tr.Value()
		pv, err2 := pr.Value()
		if err1 != nil || err2 != nil || fmt.Sprint(tv) != fmt.Sprint(pv) {
			t.Fatalf("%s: MethodFuncs %#v (%v), reflection %#v (%v)", name, tv, err1, pv, err2)
		}
		mu.Lock()
		ta, pa := seen["tabled@1.0.0"], seen["plain@1.0.0"]
		mu.Unlock()
		if ta != pa {
			t.Fatalf("%s: Args() after the call: MethodFuncs %s, reflection %s", name, ta, pa)
		}
	}
	// The struct result decodes into the caller's type, and the service's
	// own state is the one the method values are bound to.
	got, err := netron.CallUnary[Ticket](ctx, p, "tabled@1.0.0", "place", Ticket{Item: "lamp", Qty: 1, Email: "ada@example.com"})
	if err != nil || got.Item != "lamp" || got.ID != 1 {
		t.Fatalf("place: %+v, %v (want the first ticket placed since the reset)", got, err)
	}
	// Streams: the same items, and the same errors at the start or in the
	// middle, as by reflection.
	streams := []struct {
		method string
		args   []any
	}{
		{"watch", []any{3}}, {"watch", []any{0}}, {"watch", []any{"three"}}, {"watch", nil},
		{"tickets", []any{"seat", 2}}, {"tickets", []any{"seat", 5}}, {"tickets", []any{"seat"}}, {"tickets", []any{1, 2}},
		{"nothing", nil}, {"nothing", []any{1}},
	}
	for _, c := range streams {
		name := fmt.Sprintf("%s%v", c.method, c.args)
		if got, want := streamText(ctx, p, "tabled@1.0.0", c.method, c.args), streamText(ctx, p, "plain@1.0.0", c.method, c.args); got != want {
			t.Fatalf("%s: MethodFuncs\n%s\nreflection\n%s", name, got, want)
		}
	}
	if got := streamText(ctx, p, "tabled@1.0.0", "watch", []any{3}); got != "0\n1\n2\n" {
		t.Fatalf("watch: %q", got)
	}
	if got := streamText(ctx, p, "tabled@1.0.0", "tickets", []any{"seat", 5}); !strings.Contains(got, "seat") || !strings.Contains(got, "resource_exhausted") {
		t.Fatalf("tickets: %s", got)
	}
}

// streamText writes the items and the error of a stream, service names
// left out.
func streamText(ctx context.Context, p *netron.Peer, target, method string, args []any) string {
	var b strings.Builder
	for v, err := range netron.CallStream[any](ctx, p, target, method, args...) {
		if err != nil {
			fmt.Fprintf(&b, "error %s: %s\n", netron.CodeOf(err), strings.ReplaceAll(err.Error(), target, "S"))
			continue
		}
		fmt.Fprintf(&b, "%v\n", v)
	}
	return b.String()
}

// Netron calls the function a MethodFunc holds: here, on purpose, another
// function than the method, of the same type, so that the test sees which
// one ran.
type Swapped struct{ calls atomic.Int64 }

func (s *Swapped) Echo(_ context.Context, v string) (string, error) { return "method " + v, nil }

func (s *Swapped) NetronMethods() map[string]netron.MethodFunc {
	return map[string]netron.MethodFunc{"Echo": netron.Func1(func(_ context.Context, v string) (string, error) {
		s.calls.Add(1)
		return "func " + v, nil
	})}
}

func TestMethodFuncIsWhatIsCalled(t *testing.T) {
	t.Parallel()
	s := &Swapped{}
	_, p := serveOnTCP(t, map[string]any{"swapped": s})
	got, err := netron.CallUnary[string](context.Background(), p, "swapped@1.0.0", "echo", "x")
	if err != nil || got != "func x" || s.calls.Load() != 1 {
		t.Fatalf("echo: %q, %v, %d calls of the MethodFunc", got, err, s.calls.Load())
	}
}

// Registration refuses a MethodFuncs map that does not match the service,
// naming each wrong entry.
type badTable struct {
	entries func(b *badTable) map[string]netron.MethodFunc
}

func (b *badTable) Echo(_ context.Context, v string) (string, error) { return v, nil }
func (b *badTable) Add(_ context.Context, x, y int) (int, error)     { return x + y, nil }
func (b *badTable) Helper() string                                   { return "" }
func (b *badTable) NetronMethods() map[string]netron.MethodFunc      { return b.entries(b) }

func TestMethodFuncsRefused(t *testing.T) {
	t.Parallel()
	var nilFn func(context.Context, string) (string, error)
	for _, c := range []struct {
		name    string
		entries func(b *badTable) map[string]netron.MethodFunc
		want    []string
	}{
		{"unknown name", func(b *badTable) map[string]netron.MethodFunc {
			return map[string]netron.MethodFunc{"Ech": netron.Func1(b.Echo)}
		}, []string{`service bad@1.0.0: NetronMethods()["Ech"]: *netron_test.badTable has no public method Ech (one of Add, Echo)`}},
		{"not a public method", func(b *badTable) map[string]netron.MethodFunc {
			return map[string]netron.MethodFunc{"Helper": netron.Func0(func(context.Context) (string, error) { return "", nil })}
		}, []string{`NetronMethods()["Helper"]: *netron_test.badTable has no public method Helper`}},
		{"wrong type", func(b *badTable) map[string]netron.MethodFunc {
			return map[string]netron.MethodFunc{"Add": netron.Func2(func(_ context.Context, x, y int64) (int64, error) { return x + y, nil })}
		}, []string{`NetronMethods()["Add"] is a func(context.Context, int64, int64) (int64, error), but method Add is a func(context.Context, int, int) (int, error)`}},
		{"nil func", func(b *badTable) map[string]netron.MethodFunc {
			return map[string]netron.MethodFunc{"Echo": netron.Func1(nilFn)}
		}, []string{`NetronMethods()["Echo"] is a nil func`}},
		{"zero value", func(b *badTable) map[string]netron.MethodFunc {
			return map[string]netron.MethodFunc{"Echo": {}}
		}, []string{`NetronMethods()["Echo"] is the zero MethodFunc: make it with netron.Func0, Func1, Func2, Void0, Void1, Stream0, Stream1 or Stream2`}},
		{"two wrong entries", func(b *badTable) map[string]netron.MethodFunc {
			return map[string]netron.MethodFunc{"Echo": netron.Func1(nilFn), "Nope": netron.Func1(b.Echo)}
		}, []string{`NetronMethods()["Echo"] is a nil func`, `NetronMethods()["Nope"]: *netron_test.badTable has no public method Nope`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := netron.New(netron.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = n.Register("bad", "1.0.0", &badTable{entries: c.entries})
			if err == nil {
				t.Fatal("registered")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}
