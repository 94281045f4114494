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
