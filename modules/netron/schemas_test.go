package netron_test

import (
	"context"
	"encoding/json"
	"iter"
	"math/big"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Finder takes and returns pointers, which Go encodes as null when nil.
type Finder struct{}

func (Finder) Find(_ context.Context, p *Point) (*Point, error) { return p, nil }

type Found struct {
	At *Point `json:"at"`
}

func (Finder) Wrap(_ context.Context, p *Point) (Found, error) { return Found{At: p}, nil }

// With the contract validated, a nil pointer argument, result or field is
// null and passes; what a pointer points to is still checked.
func TestNilPointersPassContracts(t *testing.T) {
	t.Parallel()
	_, p := serveOnTCP(t, map[string]any{"finder": Finder{}})
	ctx := context.Background()
	if got, err := netron.CallUnary[*Point](ctx, p, "finder@1.0.0", "find", nil); err != nil || got != nil {
		t.Fatalf("find(nil) = %v, %v; want nil, no error", got, err)
	}
	if got, err := netron.CallUnary[*Point](ctx, p, "finder@1.0.0", "find", Point{X: 1, Y: 2}); err != nil || got == nil || *got != (Point{X: 1, Y: 2}) {
		t.Fatalf("find(point) = %v, %v", got, err)
	}
	if got, err := netron.CallUnary[Found](ctx, p, "finder@1.0.0", "wrap", nil); err != nil || got.At != nil {
		t.Fatalf("wrap(nil) = %+v, %v; want a nil field, no error", got, err)
	}
	_, err := netron.CallUnary[*Point](ctx, p, "finder@1.0.0", "find", Point{X: -1})
	if netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("find(x=-1) = %v, want invalid_argument (x has minimum 0)", err)
	}
}

// TreeNode contains itself.
type TreeNode struct {
	Name     string      `json:"name"`
	Children []*TreeNode `json:"children"`
}

type Forest struct{}

func (Forest) Grow(_ context.Context, n int) (*TreeNode, error) { return &TreeNode{Name: "root"}, nil }

// A method over a recursive type is refused at Register with an error
// that names the cycle (deriving its schema would never end); with a
// contract of its own it is served.
func TestRecursiveTypesNeedAContract(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Register("forest", "1.0.0", Forest{})
	if err == nil || !strings.Contains(err.Error(), "TreeNode contains itself (at .children[])") {
		t.Fatalf("Register: %v, want the cycle named", err)
	}
	out := json.RawMessage(`{"type":"object"}`)
	if err := n.Register("forest", "1.0.0", Forest{}, netron.WithContract("grow", nil, out)); err != nil {
		t.Fatalf("with a contract: %v", err)
	}
}

// NoJSONForm has methods whose types have no JSON form: a stream iterator
// returned beside an error (a stream method returns the iterator alone),
// and a channel argument.
type NoJSONForm struct{}

func (NoJSONForm) Items(context.Context) (iter.Seq2[int, error], error) { return nil, nil }

type WithChan struct{}

func (WithChan) Watch(_ context.Context, ch chan int) error { return nil }

// Register refuses them with an error naming the method and the type, and
// the process goes on: the schema reflector used to panic on them.
func TestTypesWithoutJSONFormAreRefused(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for impl, want := range map[any][]string{
		NoJSONForm{}: {"items", "iter.Seq2[int,error] has no JSON form: a func cannot cross the wire (a stream method returns its iter.Seq2[T, error] alone"},
		WithChan{}:   {"watch", "chan int has no JSON form: a chan cannot cross the wire"},
	} {
		err := n.Register("odd", "1.0.0", impl)
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Register(%T): %v, want %q in it", impl, err, w)
			}
		}
	}
}

// Wire types with a JSON form of their own (NETRON-WIRE.md §11.1).
type Wire struct{}

type Blob struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

func (Wire) Big(_ context.Context, b *big.Int) (*big.Int, error) { return b, nil }
func (Wire) Bytes(_ context.Context, b []byte) ([]byte, error)   { return b, nil }
func (Wire) Blob(_ context.Context, b Blob) (Blob, error)        { return b, nil }
func (Wire) Set(_ context.Context, s protocol.Set) (protocol.Set, error) {
	return s, nil
}
func (Wire) Map(_ context.Context, m protocol.Map) (protocol.Map, error) {
	return m, nil
}

// With the contract validated, a BigInt, binary data, a Set and a Map pass
// as arguments and results (their JSON forms are an integer, a Node
// Buffer object and empty objects), and a value of another type does not.
func TestWireTypesPassContracts(t *testing.T) {
	t.Parallel()
	_, p := serveOnTCP(t, map[string]any{"wire": Wire{}})
	ctx := context.Background()
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	if got, err := netron.CallUnary[*big.Int](ctx, p, "wire@1.0.0", "big", huge); err != nil || got.Cmp(huge) != 0 {
		t.Fatalf("big = %v, %v", got, err)
	}
	if got, err := netron.CallUnary[[]byte](ctx, p, "wire@1.0.0", "bytes", []byte{0, 1, 255}); err != nil || string(got) != "\x00\x01\xff" {
		t.Fatalf("bytes = %q, %v", got, err)
	}
	if got, err := netron.CallUnary[Blob](ctx, p, "wire@1.0.0", "blob", Blob{Name: "b", Data: []byte("xy")}); err != nil || string(got.Data) != "xy" {
		t.Fatalf("blob = %+v, %v", got, err)
	}
	for _, m := range []struct {
		method string
		arg    any
	}{{"set", protocol.Set{1, "two"}}, {"map", protocol.Map{{Key: 1, Value: "one"}}}} {
		if _, err := p.Call(ctx, "wire@1.0.0", m.method, m.arg); err != nil {
			t.Fatalf("%s: %v", m.method, err)
		}
	}
	for _, m := range []struct {
		method string
		arg    any
	}{{"big", "12"}, {"bytes", 12}, {"set", "x"}} {
		if _, err := p.Call(ctx, "wire@1.0.0", m.method, m.arg); netron.CodeOf(err) != netron.CodeInvalidArgument {
			t.Fatalf("%s(%v) = %v, want invalid_argument", m.method, m.arg, err)
		}
	}
}
