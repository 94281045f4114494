package netron_test

import (
	"context"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// NilBytes returns a nil []byte, which is null on the wire.
type NilBytes struct{}

func (NilBytes) Get(context.Context) ([]byte, error) { return nil, nil }

// A []byte argument is checked by decoding it (binary data only), not by
// walking its bytes as a JSON array of integers; what is not binary data
// is still refused, and a nil []byte result is no bytes.
func TestBytesContracts(t *testing.T) {
	t.Parallel()
	_, p := serveOnTCP(t, map[string]any{"echo": Echo{}, "nil": NilBytes{}})
	ctx := context.Background()
	if got, err := netron.CallUnary[[]byte](ctx, p, "echo@1.0.0", "bytes", []byte{1, 2, 255}); err != nil || len(got) != 3 || got[2] != 255 {
		t.Fatalf("bytes([1 2 255]) = %v, %v", got, err)
	}
	for _, bad := range []any{"text", 7, []int{1, 2, 3}, map[string]any{"type": "Buffer", "data": []int{1, 300}}, nil} {
		if _, err := p.Call(ctx, "echo@1.0.0", "bytes", bad); netron.CodeOf(err) != netron.CodeInvalidArgument {
			t.Errorf("bytes(%#v) = %v, want invalid_argument", bad, err)
		}
	}
	if b, err := netron.CallUnary[[]byte](ctx, p, "nil@1.0.0", "get"); err != nil || len(b) != 0 {
		t.Fatalf("a nil []byte result = %v, %v, want no bytes", b, err)
	}
}

// BinResult gives back a Packet (binary data and a name of at most 64
// bytes) with the name asked for: a long one breaks the output contract.
type BinResult struct{}

func (BinResult) Give(_ context.Context, name string) (Packet, error) {
	return Packet{Name: name, Data: []byte{1, 2, 3}}, nil
}

// Binary data inside a struct is checked as binary data, not byte by byte
// (a 4 KiB field once cost 15 ms and 188,000 allocations a call): the rest
// of the struct is still checked, in and out, and what a TypeScript peer
// sends as a Buffer's JSON (a map, not binary data) is checked element by
// element as before.
func TestBinaryFieldContracts(t *testing.T) {
	_, p := serveOnTCP(t, map[string]any{"echo": Echo{}, "result": BinResult{}})
	ctx := context.Background()
	data := make([]byte, 4096)
	for i := range data {
		data[i] = byte(i)
	}
	got, err := netron.CallUnary[Packet](ctx, p, "echo@1.0.0", "store", Packet{Name: "x", Data: data})
	if err != nil || len(got.Data) != len(data) || got.Data[300] != data[300] {
		t.Fatalf("store(4 KiB) = %d bytes, %v", len(got.Data), err)
	}
	long := string(make([]byte, 65))
	if _, err := p.Call(ctx, "echo@1.0.0", "store", Packet{Name: long, Data: data}); netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("store with a 65-byte name: %v, want invalid_argument", err)
	}
	for _, bad := range []map[string]any{
		{"name": "x", "data": map[string]any{"type": "Buffer", "data": []int{1, 300}}},
		{"name": "x", "data": map[string]any{"type": "Blob", "data": []int{1}}},
		{"name": "x", "data": "text"},
		{"name": "x"},
	} {
		if _, err := p.Call(ctx, "echo@1.0.0", "store", bad); netron.CodeOf(err) != netron.CodeInvalidArgument {
			t.Errorf("store(%v) = %v, want invalid_argument", bad, err)
		}
	}
	if _, err := p.Call(ctx, "echo@1.0.0", "store", map[string]any{"name": "x", "data": map[string]any{"type": "Buffer", "data": []int{1, 2}}}); err != nil {
		t.Fatalf("store with a Buffer's JSON: %v", err)
	}
	if _, err := netron.CallUnary[Packet](ctx, p, "result@1.0.0", "give", long); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("a result with a 65-byte name: %v, want internal (output contract)", err)
	}
	// The whole call, both sides, checked in and out: far from one
	// allocation per byte.
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := netron.CallUnary[Packet](ctx, p, "echo@1.0.0", "store", Packet{Name: "x", Data: data}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 500 {
		t.Fatalf("a call with 4 KiB of binary data in a struct costs %v allocations; want it checked as binary data", allocs)
	}
}
