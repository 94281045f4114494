package netron_test

import (
	"context"
	"math"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// TestBinaryWireCarriesNonFinite: unlike JSON, the MessagePack wire carries ±Inf (and NaN)
// as float64, as the TypeScript peers do (Infinity, NaN): a result of 1e308 + 1e308 arrives
// as +Inf, not as an error.
func TestBinaryWireCarriesNonFinite(t *testing.T) {
	t.Parallel()
	addr := serveLimited(t, netron.Config{}, "tcp://127.0.0.1:0")
	p := dial(t, addr)
	v, err := netron.CallUnary[float64](context.Background(), p, "calculator@1.0.0", "add", 1e308, 1e308)
	if err != nil || !math.IsInf(v, 1) {
		t.Fatalf("add(1e308, 1e308) over tcp = %v, %v; want +Inf", v, err)
	}
}
