package cache_test

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// TestHitsAreCallersOwn: a caller that changes the result it got (a map,
// a slice, a pointer) changes nothing for the callers after it.
func TestHitsAreCallersOwn(t *testing.T) {
	for _, tc := range []struct {
		method string
		arg    any
		change func(v any)
		want   any
	}{
		{"prices", "apple", func(v any) { v.(map[string]int)["apple"] = 0 }, map[string]int{"apple": 100}},
		{"items", 1, func(v any) { v.([]Item)[0].Tags[0] = "sold" }, []Item{{SKU: "sku-0", Tags: []string{"new"}, Price: 100}}},
		{"item", "apple", func(v any) { v.(*Item).Price = 0 }, &Item{SKU: "apple", Tags: []string{"new"}, Price: 100}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			var runs atomic.Int64
			c := cache.New(100)
			defer c.Close()
			call := serve(t, c, &runs)
			for i := range 3 {
				v, err := call("ada", "catalog@1.0.0", tc.method, tc.arg)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(v, tc.want) {
					t.Fatalf("call %d got %#v, want %#v", i+1, v, tc.want)
				}
				tc.change(v)
			}
			if runs.Load() != 1 {
				t.Errorf("the method ran %d times, want 1", runs.Load())
			}
		})
	}
}

// Values answers with the value at index i of its table.
type Values struct {
	table []any
	runs  *atomic.Int64
}

func (v Values) Get(_ context.Context, i int) (any, error) {
	v.runs.Add(1)
	return v.table[i], nil
}

// Flat holds no reference.
type Flat struct {
	Name  string    `json:"name"`
	Sizes [2]int    `json:"sizes"`
	At    time.Time `json:"at"`
}

// Status is a string type of its own.
type Status string

// Sealed holds a string the cache cannot copy: an unexported field.
type Sealed struct {
	Code int `json:"code"`
	note string
}

// Opaque holds an interface that its encoding cannot fill back.
type Opaque struct {
	V fmt.Stringer `json:"v"`
}

// TestHitAnswersLikeTheMethod holds the cache's copies to the method:
// what a hit answers encodes to the bytes the method's own result does,
// so a remote caller cannot tell them apart, and it is the very value
// for the results kept as they are and for those whose types the encoding
// carries whole. A result that would not decode back is not kept.
func TestHitAnswersLikeTheMethod(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	for _, tc := range []struct {
		name  string
		value any
		same  bool // a hit is reflect.DeepEqual to the method's result
		kept  bool
	}{
		{"nil", nil, true, true},
		{"int", 42, true, true},
		{"string", "apple", true, true},
		{"flat struct", Flat{Name: "apple", Sizes: [2]int{1, 2}, At: at}, true, true},
		{"string type", Status("open"), true, true},
		{"array of strings", [2]string{"a", "b"}, true, true},
		{"unexported string", Sealed{Code: 1, note: "n"}, false, false},
		{"time", time.Date(2026, 1, 2, 3, 4, 5, 6, time.Local), true, true},
		{"map", map[string]int{"apple": 100}, true, true},
		{"slice of structs", []Item{{SKU: "a", Tags: []string{"x", "y"}, Price: 1}}, true, true},
		{"pointer", &Item{SKU: "a", Tags: []string{"x"}, Price: 1}, true, true},
		{"nil pointer", (*Item)(nil), true, true},
		{"bytes", []byte{1, 2, 3}, true, true},
		{"raw value", protocol.RawValue{0x2a}, true, true},
		{"big int", big.NewInt(1 << 62), true, true},
		{"nil slice", []string(nil), false, true},                                           // comes back empty
		{"struct with nil tags", Item{SKU: "a"}, false, true},                               // so do its tags
		{"generic map", map[string]any{"n": 1, "m": map[string]any{"k": "v"}}, false, true}, // int64, protocol.Object
		{"time in a slice", []time.Time{at}, true, true},
		{"not decodable", Opaque{V: time.Second}, false, false},
		{"not encodable", func() {}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs atomic.Int64
			c := cache.New(100)
			defer c.Close()
			n := newNetron(t, c, &runs)
			if err := n.Register("values", "1.0.0", Values{[]any{tc.value}, &runs}, netron.WithCache(time.Minute)); err != nil {
				t.Fatal(err)
			}
			inv := invocation(t, "values@1.0.0", "get", 0)
			miss, err := n.Invoke(asCaller("ada"), inv)
			if err != nil {
				t.Fatal(err)
			}
			hit, err := n.Invoke(asCaller("ada"), inv)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int64{true: 1, false: 2}[tc.kept]; runs.Load() != want {
				t.Fatalf("the method ran %d times, want %d", runs.Load(), want)
			}
			if !tc.kept {
				return
			}
			wantBytes, err := protocol.AppendValue(nil, miss)
			if err != nil {
				t.Fatal(err)
			}
			gotBytes, err := protocol.AppendValue(nil, hit)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotBytes, wantBytes) {
				t.Errorf("a hit encodes to %x, the method's result to %x", gotBytes, wantBytes)
			}
			if same := reflect.DeepEqual(hit, miss); same != tc.same {
				t.Errorf("hit %#v, method's result %#v: equal %v, want %v", hit, miss, same, tc.same)
			}
		})
	}
}
