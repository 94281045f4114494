package netron_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/titanframework/titan/titantest"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// violationPaths returns the JSON pointers in an error's details
// ({violations: [{path, reason}]}).
func violationPaths(err error) []string {
	var e *netron.Error
	if !errors.As(err, &e) {
		return nil
	}
	d, _ := e.Details().(protocol.Object)
	list, _ := d.Get("violations")
	items, _ := list.([]any)
	var out []string
	for _, it := range items {
		o, _ := it.(protocol.Object)
		p, _ := o.Get("path")
		s, _ := p.(string)
		out = append(out, s)
	}
	return out
}

// Shapes has methods of each path an argument error can take: scalars
// (decoded without validation, fast path), a struct (validated first),
// a small integer type, and a method with named arguments.
type Shapes struct{}

func (Shapes) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }
func (Shapes) Scale(_ context.Context, p Point, k int) (Point, error) {
	return Point{p.X * k, p.Y * k}, nil
}
func (Shapes) Tiny(_ context.Context, n int8) (int8, error) { return n, nil }
func (Shapes) Ping(context.Context) (string, error)         { return "pong", nil }
func (Shapes) Greet(_ context.Context, name string, n int) (string, error) {
	return strings.Repeat(name, n), nil
}
func (Shapes) Join(_ context.Context, s Signup) (string, error) { return s.Email, nil }

// Signup has a formatted field.
type Signup struct {
	Email string `json:"email" jsonschema:"format=email"`
	ID    string `json:"id,omitempty" jsonschema:"format=uuid"`
}

func serveShapes(t *testing.T) (*netron.Netron, *netron.Peer) {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil, titantest.AppFeatures(t, netron.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("shapes", "1.0.0", Shapes{}, netron.WithMethod("greet", netron.WithArgs("name", "times"))); err != nil {
		t.Fatal(err)
	}
	bound, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	return n, dial(t, bound)
}

// Argument errors say, in the caller's terms, which argument is wrong and
// how: the count with the types the method takes, the argument by number
// and name, what was wanted and what was got (issue 12, item 13).
func TestArgumentErrorsInPlainWords(t *testing.T) {
	t.Parallel()
	_, p := serveShapes(t)
	ctx := context.Background()
	tests := []struct {
		method string
		args   []any
		want   string
		paths  []string
	}{
		{"add", []any{1, 2, 3}, "shapes@1.0.0.add takes 2 arguments (number, number), got 3", []string{"/"}},
		{"add", []any{1}, "shapes@1.0.0.add takes 2 arguments (number, number), got 1", []string{"/"}},
		{"scale", []any{Point{X: 1}, 2, 3}, "shapes@1.0.0.scale takes 2 arguments (object, integer), got 3", []string{"/"}},
		{"ping", []any{1}, "shapes@1.0.0.ping takes no arguments, got 1", []string{"/"}},
		{"greet", []any{"a"}, "shapes@1.0.0.greet takes 2 arguments (name: string, times: integer), got 1", []string{"/"}},
		{"add", []any{"one", 2}, "shapes@1.0.0.add: argument 1: want a number, got a string", []string{"/0"}},
		{"add", []any{1, []int{2}}, "shapes@1.0.0.add: argument 2: want a number, got an array", []string{"/1"}},
		{"add", []any{1, nil}, "shapes@1.0.0.add: argument 2: want a number, got null", []string{"/1"}},
		{"greet", []any{"a", "b"}, "shapes@1.0.0.greet: argument 2 (times): want an integer, got a string", []string{"/1"}},
		{"greet", []any{"a", 1.5}, "shapes@1.0.0.greet: argument 2 (times): want an integer, got a number", []string{"/1"}},
		{"tiny", []any{300}, "shapes@1.0.0.tiny: argument 1: want an integer, got 300, which does not fit Go type int8", []string{"/0"}},
		{"scale", []any{"p", 2}, "shapes@1.0.0.scale: argument 1: want an object, got a string", []string{"/0"}},
		{"scale", []any{map[string]any{"x": -1, "y": "two"}, 2}, "shapes@1.0.0.scale: argument 1 at /x: want at least 0, got -1; argument 1 at /y: want an integer, got a string", []string{"/0/x", "/0/y"}},
		{"scale", []any{map[string]any{"y": 1, "z": 0}, 2}, "shapes@1.0.0.scale: argument 1 at /x: required, but missing; argument 1 at /z: unknown key, not allowed here", []string{"/0/x", "/0/z"}},
		{"join", []any{Signup{Email: "not-an-email"}}, `shapes@1.0.0.join: argument 1 at /email: want an email address, got "not-an-email" (missing @)`, []string{"/0/email"}},
		{"join", []any{Signup{Email: "a@example.com", ID: "nope"}}, `shapes@1.0.0.join: argument 1 at /id: want a UUID, got "nope" (must have 5 elements)`, []string{"/0/id"}},
	}
	for _, tt := range tests {
		_, err := p.Call(ctx, "shapes@1.0.0", tt.method, tt.args...)
		if netron.CodeOf(err) != netron.CodeInvalidArgument || err.Error() != "invalid_argument: "+tt.want {
			t.Errorf("%s%v:\n got %v\nwant invalid_argument: %s", tt.method, tt.args, err, tt.want)
			continue
		}
		if got := violationPaths(err); strings.Join(got, " ") != strings.Join(tt.paths, " ") {
			t.Errorf("%s%v: details name %v, want %v", tt.method, tt.args, got, tt.paths)
		}
	}
	if got, err := netron.CallUnary[string](ctx, p, "shapes@1.0.0", "join", Signup{Email: "ada@example.com", ID: "0190f5e4-8a7b-7c3d-9e2f-0123456789ab"}); err != nil || got != "ada@example.com" {
		t.Fatalf("join(valid) = %q, %v", got, err)
	}
}

// Argument names given with WithArgs are published: as the title of each
// prefixItems entry of the input contract and as "name" in the
// definition's argument list, so TypeScript peers and tools see them.
func TestArgNamesArePublished(t *testing.T) {
	t.Parallel()
	_, p := serveShapes(t)
	def, err := p.Definition(context.Background(), "shapes@1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	meta := def.Meta.(protocol.Object)
	methods, _ := meta.Get("methods")
	greet, _ := methods.(protocol.Object).Get("greet")
	entry := greet.(protocol.Object)
	in, _ := entry.Get("inputSchema")
	j, err := protocol.ToJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(j.(map[string]any)["prefixItems"])
	if want := `[{"title":"name","type":"string"},{"title":"times","type":"integer"}]`; string(b) != want {
		t.Errorf("prefixItems = %s, want %s", b, want)
	}
	args, _ := entry.Get("arguments")
	var names []string
	for _, a := range args.([]any) {
		n, _ := a.(protocol.Object).Get("name")
		s, _ := n.(string)
		names = append(names, s)
	}
	if strings.Join(names, ",") != "name,times" {
		t.Errorf("argument names %q, want name, times", names)
	}
}

// An explicit contract names its arguments with prefixItems titles;
// WithArgs is refused beside it, and it must name every argument once.
func TestArgNamesFromOptionsAndContracts(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := json.RawMessage(`{"type":"array","prefixItems":[{"title":"x","type":"number"},{"title":"y","type":"number"}],"minItems":2,"maxItems":2}`)
	if err := n.Register("named", "1.0.0", Shapes{}, netron.WithContract("add", in, nil)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		opt  netron.ServiceOption
		want string
	}{
		{netron.WithMethod("add", netron.WithArgs("a")),
			`netron: service bad@1.0.0: Method("add"): Args("a") names 1 argument, but Add takes 2 arguments`},
		{netron.WithMethod("add", netron.WithArgs("a", "a")),
			`netron: service bad@1.0.0: Method("add"): Args("a", "a"): names must be non-empty and distinct`},
		{netron.WithMethod("add", netron.WithArgs("a", "")),
			`netron: service bad@1.0.0: Method("add"): Args("a", ""): names must be non-empty and distinct`},
	} {
		if err := n.Register("bad", "1.0.0", Shapes{}, tt.opt); err == nil || err.Error() != tt.want {
			t.Errorf("%v:\n got %v\nwant %s", tt.opt, err, tt.want)
		}
	}
	err = n.Register("bad", "1.0.0", Shapes{}, netron.WithContract("add", in, nil), netron.WithMethod("add", netron.WithArgs("a", "b")))
	if want := `netron: service bad@1.0.0: method add: Args("a", "b"): the method has an explicit input contract (Contract): name the arguments there, as the "title" of each prefixItems entry`; err == nil || err.Error() != want {
		t.Errorf("Args beside a contract:\n got %v\nwant %s", err, want)
	}
	bound, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	p := dial(t, bound)
	_, err = p.Call(context.Background(), "named@1.0.0", "add", 1, "two")
	if want := "invalid_argument: named@1.0.0.add: argument 2 (y): want a number, got a string"; err == nil || err.Error() != want {
		t.Errorf("named by the contract:\n got %v\nwant %s", err, want)
	}
}
