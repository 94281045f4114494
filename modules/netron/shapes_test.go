package netron_test

import (
	"context"
	"iter"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// Misshapen has one public method, exported methods of wrong shapes, and
// helpers.
type Misshapen struct{}

// Greet is public.
func (Misshapen) Greet(_ context.Context, name string) (string, error) { return "hi " + name, nil }

// Hello forgot its context.
func (Misshapen) Hello(name string) (string, error) { return "hello " + name, nil }

// Div has three results.
func (Misshapen) Div(_ context.Context, a, b float64) (float64, float64, error) { return a / b, 0, nil }

// Sum is variadic.
func (Misshapen) Sum(_ context.Context, xs ...int) (int, error) { return len(xs), nil }

// Ticks forgot its context too.
func (Misshapen) Ticks(n int) iter.Seq2[int, error] { return nil }

// Helpers: no warning for these.
func (Misshapen) String() string                 { return "misshapen" }
func (Misshapen) Close() error                   { return nil }
func (Misshapen) MarshalJSON() ([]byte, error)   { return []byte(`{}`), nil }
func (Misshapen) UnmarshalJSON(b []byte) error   { return nil }
func (Misshapen) Len() int                       { return 0 }
func (Misshapen) Less(i, j int) bool             { return i < j }
func (Misshapen) Name() string                   { return "g" }
func (Misshapen) Write(p []byte) (int, error)    { return len(p), nil }
func (Misshapen) Scan(src any) error             { return nil }
func (Misshapen) Format(int, rune)               {}
func (Misshapen) Configure(name string, n int)   {}
func (Misshapen) Lookup(name string) (int, bool) { return 0, false }

const misshapenNotExposed = "Div(context.Context, float64, float64) (float64, float64, error): returns (float64, float64, error); " +
	"Hello(string) (string, error): no context.Context first argument; " +
	"Sum(context.Context, ...int) (int, error): variadic arguments cannot be called positionally; " +
	"Ticks(int) iter.Seq2[int,error]: no context.Context first argument"

// A method of the wrong shape is not skipped silently: Register logs one
// warning for the service listing each such method and why, with the
// accepted shapes; helpers are not listed (issue 12, item 10).
func TestMethodsNotExposedAreReported(t *testing.T) {
	t.Parallel()
	log, rec := captureLogger()
	n, err := netron.New(netron.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("misshapen", "1.0.0", Misshapen{}); err != nil {
		t.Fatal(err)
	}
	want := "WARN exported methods are not exposed service=misshapen@1.0.0 methods=" + misshapenNotExposed +
		" accepted=a public method takes a context.Context first and returns (T, error), error or iter.Seq2[T, error]"
	rec.mu.Lock()
	var warns []string
	for _, m := range rec.msgs {
		if strings.HasPrefix(m, "WARN") {
			warns = append(warns, m)
		}
	}
	rec.mu.Unlock()
	if len(warns) != 1 || warns[0] != want {
		t.Fatalf("warnings:\n%s\nwant one:\n%s", strings.Join(warns, "\n"), want)
	}
	if got := n.Describe()[0].Methods; len(got) != 1 || got[0].Name != "greet" {
		t.Fatalf("public methods %+v, want greet only", got)
	}

	// A service of helpers and public methods only is not reported.
	log, rec = captureLogger()
	n, err = netron.New(netron.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	if c := rec.count("WARN"); c != 0 {
		t.Fatalf("%d warnings for a service with helpers only: %q", c, rec.msgs)
	}
}

// With WithStrict (titan.Strict) the same methods fail Register.
func TestStrictRefusesMethodsNotExposed(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil, netron.WithStrict())
	if err != nil {
		t.Fatal(err)
	}
	err = n.Register("misshapen", "1.0.0", Misshapen{})
	want := "netron: service misshapen@1.0.0: 4 exported methods are not exposed (Strict): " + misshapenNotExposed +
		"; a public method takes a context.Context first and returns (T, error), error or iter.Seq2[T, error]"
	if err == nil || err.Error() != want {
		t.Fatalf("Register:\n got %v\nwant %s", err, want)
	}
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatalf("a service with helpers only: %v", err)
	}
}

// Late takes its context second.
type Late struct{}

func (Late) Greet(name string, ctx context.Context) (string, error) { return name, nil }
func (Late) Ok(context.Context) error                               { return nil }

// NoneRight has no method of a public shape.
type NoneRight struct{}

func (NoneRight) Hello(name string) (string, error) { return name, nil }

// A context.Context in the wrong place is an error, strict or not; a
// service with no public method says why each candidate is not one.
func TestMisplacedContextIsAnError(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Register("late", "1.0.0", Late{})
	if want := "netron: service late@1.0.0: method Greet(string, context.Context) (string, error): context.Context must be the first argument, not argument 2"; err == nil || err.Error() != want {
		t.Fatalf("Register:\n got %v\nwant %s", err, want)
	}
	err = n.Register("none", "1.0.0", NoneRight{})
	if want := "netron: service none@1.0.0: netron_test.NoneRight has no public methods: Hello(string) (string, error): no context.Context first argument (a public method takes a context.Context first and returns (T, error), error or iter.Seq2[T, error])"; err == nil || err.Error() != want {
		t.Fatalf("Register:\n got %v\nwant %s", err, want)
	}
}
