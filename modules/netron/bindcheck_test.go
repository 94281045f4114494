package netron_test

import (
	"context"
	"iter"
	"reflect"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

const calcHas = "add, count, div, fail, move, negative, panic, points, reset, slow"

// Bind checks the client's fields against the service's definition at
// once, naming the field, rather than failing on the first call (issue
// 12, item 15).
func TestBindChecksFieldsAgainstTheDefinition(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp", netron.WithMethod("div", netron.WithArgs("a", "b")))
	p := dial(t, s.addr)
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		client any
		want   string
	}{
		{"missing method", &struct {
			Add func(context.Context, float64, float64) (float64, error)
			Mul func(context.Context, float64, float64) (float64, error)
		}{}, `field Mul: service calculator@1.0.0 has no method "mul" (it has: ` + calcHas + `)`},
		{"result type", &struct {
			Add func(context.Context, float64, float64) (map[string]int, error)
		}{}, "field Add: the result type map[string]int cannot hold what calculator@1.0.0.add returns (its contract says number)"},
		{"struct result for a number", &struct {
			Move func(context.Context, Point, int) (float64, error)
		}{}, "field Move: the result type float64 cannot hold what calculator@1.0.0.move returns (its contract says object)"},
		{"argument type", &struct {
			Add func(context.Context, string, float64) (float64, error)
		}{}, "field Add: argument 1: Go type string cannot carry what calculator@1.0.0.add takes (its contract says number)"},
		{"named argument type", &struct {
			Div func(context.Context, float64, []int) (float64, error)
		}{}, "field Div: argument 2 (b): Go type []int cannot carry what calculator@1.0.0.div takes (its contract says number)"},
		{"argument count", &struct {
			Div func(context.Context, float64) (float64, error)
		}{}, "field Div: calculator@1.0.0.div takes 2 arguments (a: number, b: number), the field passes 1"},
		{"unary for a stream", &struct {
			Count func(context.Context, int) (int, error)
		}{}, "field Count: calculator@1.0.0.count is a stream method: want func(ctx, ...) iter.Seq2[T, error]"},
		{"stream for a unary", &struct {
			Add func(context.Context, float64, float64) iter.Seq2[float64, error]
		}{}, "field Add: calculator@1.0.0.add is not a stream method: want func(ctx, ...) (T, error) or error"},
		{"result of a void method", &struct {
			Reset func(context.Context) (int, error)
		}{}, "field Reset: calculator@1.0.0.reset returns nothing: want func(ctx, ...) error"},
		{"stream item type", &struct {
			Count func(context.Context, int) iter.Seq2[string, error]
		}{}, "field Count: the result type string cannot hold what calculator@1.0.0.count returns (its contract says number)"},
	} {
		err := p.Bind(ctx, "calculator@^1", tt.client)
		want := "netron: Bind " + reflect.TypeOf(tt.client).Elem().String() + " to calculator@1.0.0: " + tt.want
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", tt.name, err, want)
		}
	}

	// Fields that fit, including compatible types and a dropped result.
	var ok struct {
		Add   func(context.Context, int, int) (float64, error) // integers are numbers
		Div   func(context.Context, float64, float64) error    // the result dropped
		Move  func(context.Context, map[string]any, float64) (*Point, error)
		Reset func(context.Context) error
		Count func(context.Context, int) iter.Seq2[int, error]
		Slow  func(context.Context, any) (string, error)
	}
	if err := p.Bind(ctx, "calculator@^1", &ok); err != nil {
		t.Fatalf("compatible fields: %v", err)
	}
	if v, err := ok.Add(ctx, 2, 3); err != nil || v != 5 {
		t.Fatalf("Add = %v, %v", v, err)
	}

	// The service itself must exist.
	var any1 struct {
		Add func(context.Context, float64, float64) (float64, error)
	}
	err := p.Bind(ctx, "users@^1", &any1)
	if want := `netron: Bind struct { Add func(context.Context, float64, float64) (float64, error) }: not_found: no service matches "users@^1" (the server has: calculator@1.0.0)`; err == nil || err.Error() != want {
		t.Fatalf("unknown service:\n got %v\nwant %s", err, want)
	}
}

// An explicit contract may allow a range of counts; Bind says which.
func TestBindCountsOfExplicitContracts(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("loose", "1.0.0", Shapes{},
		netron.WithContract("add", []byte(`{"type":"array","prefixItems":[{"type":"number"},{"type":"number"}],"minItems":1,"maxItems":2}`), nil),
		netron.WithContract("greet", []byte(`{"type":"array","minItems":2}`), nil)); err != nil {
		t.Fatal(err)
	}
	bound, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	p := dial(t, bound)
	var three struct {
		Add func(context.Context, float64, float64, float64) (float64, error)
	}
	err = p.Bind(context.Background(), "loose@1.0.0", &three)
	if want := "netron: Bind struct { Add func(context.Context, float64, float64, float64) (float64, error) } to loose@1.0.0: field Add: loose@1.0.0.add takes 1 to 2 arguments (number, number), the field passes 3"; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	var one struct {
		Greet func(context.Context, string) (string, error)
	}
	err = p.Bind(context.Background(), "loose@1.0.0", &one)
	if want := "netron: Bind struct { Greet func(context.Context, string) (string, error) } to loose@1.0.0: field Greet: loose@1.0.0.greet takes at least 2 arguments, the field passes 1"; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
