package netron_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// BadOrders returns orders that break the Order contract.
type BadOrders struct{}

// Give returns an order whose status is outside its enum.
func (BadOrders) Give(_ context.Context, status string) (Order, error) {
	return Order{ID: 1, Customer: "ada@example.com", Status: status, Ship: Address{}}, nil
}

// TestCompiledContracts: a struct argument and result are checked in their
// encoded form (package contract) with a few allocations per call, and
// what they refuse is still explained by the general validator, each
// failing pointer named.
func TestCompiledContracts(t *testing.T) {
	_, p := serveOnTCP(t, map[string]any{"echo": Echo{}, "bad": BadOrders{}})
	ctx := context.Background()
	o := Order{ID: 42, Customer: "ada@example.com", Status: "paid", Total: 99.5, Gift: true,
		Tags: []string{"books", "fast"}, Ship: Address{Street: "1 Main St", City: "Springfield"}}
	got, err := netron.CallUnary[Order](ctx, p, "echo@1.0.0", "place", o)
	if err != nil || got.Customer != o.Customer || len(got.Tags) != 2 || got.Ship.City != o.Ship.City {
		t.Fatalf("place = %+v, %v", got, err)
	}
	valid := map[string]any{"id": 1, "customer": "a@b.co", "status": "new", "total": 0, "gift": false,
		"tags": []string{}, "ship": map[string]any{"street": "", "city": ""}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range valid {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	if _, err := p.Call(ctx, "echo@1.0.0", "place", valid); err != nil {
		t.Fatalf("place(%v): %v", valid, err)
	}
	for _, c := range []struct {
		arg  map[string]any
		want string
	}{
		{with("customer", "not an email"), "/customer"},
		{with("status", "lost"), "/status"},
		{with("id", 0), "/id"},
		{with("tags", make([]string, 17)), "/tags"},
		{with("ship", map[string]any{"street": strings.Repeat("x", 65), "city": ""}), "/ship/street"},
		{with("extra", 1), "/extra"},
		{with("gift", nil), "/gift"},
		{with("total", "12"), "/total"},
	} {
		_, err := p.Call(ctx, "echo@1.0.0", "place", c.arg)
		if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), c.want) {
			t.Errorf("place with %s wrong: %v, want invalid_argument naming %s", c.want, err, c.want)
		}
	}
	if _, err := netron.CallUnary[Order](ctx, p, "bad@1.0.0", "give", "lost"); netron.CodeOf(err) != netron.CodeInternal {
		t.Errorf("a result outside its contract: %v, want internal", err)
	}
	if _, err := netron.CallUnary[Order](ctx, p, "bad@1.0.0", "give", "new"); err != nil {
		t.Errorf("a result within its contract: %v", err)
	}
	// Both sides of a call, the argument and the result checked: the
	// general validator's conversion cost 268 allocations here.
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := netron.CallUnary[Order](ctx, p, "echo@1.0.0", "place", o); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 60 {
		t.Errorf("a validated struct call costs %v allocations, want at most 60", allocs)
	}
}
