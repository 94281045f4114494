package titan_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
)

// Sloppy has a public method and one that forgot its context.
type Sloppy struct{}

func (Sloppy) Greet(_ context.Context, name string) (string, error) { return "hi " + name, nil }
func (Sloppy) Hello(name string) (string, error)                    { return "hello " + name, nil }
func (Sloppy) String() string                                       { return "sloppy" }

const sloppyWhy = "Hello(string) (string, error): no context.Context first argument"

// Without titan.Strict a method of the wrong shape is a warning at
// start-up; with it, start-up fails naming the method and why.
func TestStrict(t *testing.T) {
	t.Parallel()
	var logs testsrv.LogBuffer
	startApp(t, titan.WithConfig(quiet()), titan.WithLogger(logger.WithWriter(&logs)),
		titan.Service("sloppy", "1.0.0", Sloppy{}))
	out := logs.String()
	if strings.Count(out, "exported methods are not exposed") != 1 || !strings.Contains(out, sloppyWhy) {
		t.Fatalf("want one warning naming %q; log:\n%s", sloppyWhy, out)
	}

	app := titan.New(titan.WithConfig(quiet()), titan.Strict(), titan.Service("sloppy", "1.0.0", Sloppy{}))
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started with titan.Strict()")
	}
	want := "netron: service sloppy@1.0.0: 1 exported method is not exposed (Strict): " + sloppyWhy +
		"; a public method takes a context.Context first and returns (T, error), error or iter.Seq2[T, error]"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}

	app = titan.New(titan.WithConfig(quiet()), titan.Module("m", titan.Strict()))
	if err := app.Start(context.Background()); err == nil || !strings.Contains(err.Error(), `Module("m"): Strict() is an app-level option`) {
		if err == nil {
			app.Stop(context.Background())
		}
		t.Fatalf("Strict inside a Module: %v", err)
	}
}

// titan.Args names a method's arguments in its errors.
func TestArgs(t *testing.T) {
	t.Parallel()
	var server *netron.Netron
	startApp(t, titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0")),
		titan.Service("calculator", "1.0.0", NewCalculator, titan.Method("add", titan.Args("a", "b"))),
		titan.Invoke(func(n *netron.Netron) { server = n }))
	ctx := context.Background()
	p, err := netron.Dial(ctx, server.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = p.Call(ctx, "calculator@1.0.0", "add", 1, "two")
	if want := "invalid_argument: calculator@1.0.0.add: argument 2 (b): want a number, got a string"; err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// WrongClient asks for a method the calculator lacks.
type WrongClient struct {
	Add func(ctx context.Context, a, b float64) (float64, error)
	Mul func(ctx context.Context, a, b float64) (float64, error)
}

// A Remote client whose fields do not match the service fails start-up,
// naming the field, instead of failing on its first call.
func TestRemoteChecksFieldsAtStart(t *testing.T) {
	t.Parallel()
	var server *netron.Netron
	startApp(t, titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0")),
		titan.Service("calculator", "1.0.0", NewCalculator),
		titan.Invoke(func(n *netron.Netron) { server = n }))
	app := titan.New(titan.WithConfig(quiet()),
		titan.Remote[WrongClient]("calculator@^1", titan.At(server.Addrs()[0])),
		titan.Invoke(func(WrongClient) {}))
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started")
	}
	want := `netron: Bind titan_test.WrongClient to calculator@1.0.0: field Mul: service calculator@1.0.0 has no method "mul" (it has: add, count)`
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
}
