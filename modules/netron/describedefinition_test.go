package netron_test

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// described registers Calc as calc@1.0.0 (tcp and mem only, add's
// arguments named) on a Netron of this process, and returns the Netron
// and calc's definition as a peer gets it.
func described(tb testing.TB) (*netron.Netron, *protocol.Definition) {
	tb.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = n.Stop(context.Background()) })
	if err := n.Register("calc", "1.0.0", &Calc{}, netron.WithTransports("tcp", "mem"),
		netron.WithMethod("add", netron.WithArgs("a", "b"))); err != nil {
		tb.Fatal(err)
	}
	def, err := n.Definition("calc@1.0.0", "")
	if err != nil {
		tb.Fatal(err)
	}
	return n, def
}

// TestDescribeDefinitionAnswersLikeDescribe: what DescribeDefinition
// reads from a service's definition is what Describe says of the service,
// but for what the metadata does not carry (the Go names, the extensions);
// the schemas are the same JSON, though not the same text.
func TestDescribeDefinitionAnswersLikeDescribe(t *testing.T) {
	t.Parallel()
	n, def := described(t)
	got, err := netron.DescribeDefinition(def)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(n.Describe(), func(d netron.ServiceDesc) bool { return d.Name == "calc" })
	want := n.Describe()[i]
	if got.Name != want.Name || got.Version != want.Version || got.ID != want.ID || !slices.Equal(got.Transports, want.Transports) {
		t.Errorf("service: got %+v\nwant %+v", got, want)
	}
	if len(got.Methods) != len(want.Methods) {
		t.Fatalf("%d methods, want %d", len(got.Methods), len(want.Methods))
	}
	for i, g := range got.Methods {
		w := want.Methods[i]
		if g.GoName != "" {
			t.Errorf("%s: GoName %q, which the metadata does not carry", g.Name, g.GoName)
		}
		w.GoName = ""
		gIn, gOut, wIn, wOut := g.Input, g.Output, w.Input, w.Output
		g.Input, g.Output, w.Input, w.Output = nil, nil, nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("method %d:\ngot  %+v\nwant %+v", i, g, w)
		}
		if !sameJSON(t, gIn, wIn) || !sameJSON(t, gOut, wOut) {
			t.Errorf("%s: schemas %s -> %s, want %s -> %s", g.Name, gIn, gOut, wIn, wOut)
		}
	}
	for _, m := range got.Methods {
		switch m.Name {
		case "add":
			if m.Void || m.Stream || m.Arity != 2 || !slices.Equal(m.ArgTypes, []string{"Number", "Number"}) || m.ResultType != "Number" ||
				!strings.Contains(string(m.Input), `"title":"a"`) {
				t.Errorf("add: %+v", m)
			}
		case "reset":
			if !m.Void || m.Output != nil || m.ResultType != "void" {
				t.Errorf("reset: %+v", m)
			}
		case "count":
			if !m.Stream || m.Void || m.Output == nil {
				t.Errorf("count: %+v", m)
			}
		}
	}
}

// sameJSON reports whether a and b hold the same JSON value (both nil is
// the same).
func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// TestDescribeDefinitionOfAServerWithoutContracts: a TypeScript server's
// metadata has type names and no schemas; the methods keep their order.
func TestDescribeDefinitionOfAServerWithoutContracts(t *testing.T) {
	t.Parallel()
	meta := protocol.Object{
		{Key: "name", Value: "ts"},
		{Key: "version", Value: "2.0.0"},
		{Key: "methods", Value: protocol.Object{
			{Key: "greet", Value: protocol.Object{
				{Key: "type", Value: "String"},
				{Key: "arguments", Value: []any{
					protocol.Object{{Key: "index", Value: 0}, {Key: "type", Value: "String"}},
					protocol.Object{{Key: "index", Value: 1}},
					"not an object",
				}},
			}},
			{Key: "clear", Value: protocol.Object{{Key: "type", Value: "void"}, {Key: "inputSchema", Value: protocol.Undefined{}}}},
			{Key: "odd", Value: "not an object"},
		}},
	}
	got, err := netron.DescribeDefinition(&protocol.Definition{ID: "d", Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	want := netron.ServiceDesc{Name: "ts", Version: "2.0.0", ID: "d", Methods: []netron.MethodDesc{
		{Name: "greet", Arity: 3, ArgTypes: []string{"String", "any", "any"}, ResultType: "String"},
		{Name: "clear", Void: true, ResultType: "void"},
		{Name: "odd"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestDescribeDefinitionRefuses: metadata that is no object, and a schema
// that has no JSON form, are refused with internal errors that say where.
func TestDescribeDefinitionRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		meta any
		want string
	}{
		{"metadata no object", "not an object", "the definition d has metadata of type string, want an object"},
		{"schema without JSON form", protocol.Object{
			{Key: "name", Value: "s"}, {Key: "version", Value: "1.0.0"},
			{Key: "methods", Value: protocol.Object{{Key: "m", Value: protocol.Object{{Key: "inputSchema", Value: math.NaN()}}}}},
		}, "the definition of s@1.0.0: method m: inputSchema:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := netron.DescribeDefinition(&protocol.Definition{ID: "d", Meta: tc.meta})
			if netron.CodeOf(err) != netron.CodeInternal || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v, want an internal error saying %q", err, tc.want)
			}
		})
	}
}

// FuzzDescribeDefinition: whatever metadata a remote peer's definition
// carries, DescribeDefinition reads it or refuses it with an internal
// error; it never panics. The seeds are a Titan definition's metadata,
// encoded as on the wire.
func FuzzDescribeDefinition(f *testing.F) {
	_, def := described(f)
	meta, err := protocol.Marshal(def.Meta)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(meta)
	f.Add([]byte{0x80})                                                // {}
	f.Add([]byte{0x81, 0xa7, 'm', 'e', 't', 'h', 'o', 'd', 's', 0x90}) // {"methods": []}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := protocol.DecodeValue(b, protocol.Limits{})
		if err != nil {
			return
		}
		if _, err := netron.DescribeDefinition(&protocol.Definition{ID: "id", Meta: v}); err != nil && netron.CodeOf(err) != netron.CodeInternal {
			t.Fatalf("%x: %v, want an internal error", b, err)
		}
	})
}
