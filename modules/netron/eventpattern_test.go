package netron_test

import (
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// An EventPattern matches event names as subscriptions match them.
func TestEventPatternMatch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern, topic string
		ok             bool
	}{
		{"orders.created", "orders.created", true},
		{"orders.created", "orders.deleted", false},
		{"orders.created", "orders.created.x", false},
		{"orders.created", "orders", false},
		{"orders.*", "orders.created", true},
		{"orders.*", "orders.created.x", false},
		{"orders.*", "orders", false},
		{"*.created", "orders.created", true},
		{"*", "orders", true},
		{"*", "orders.created", false},
		{"orders.>", "orders.created", true},
		{"orders.>", "orders.created.x.y", true},
		{"orders.>", "orders", false},
		{"orders.>", "ordersx.created", false},
		{">", "anything.at.all", true},
		{"orders.*.paid", "orders.7.paid", true},
		{"orders.*.paid", "orders.7.due", false},
	} {
		p, err := netron.ParseEventPattern(c.pattern)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		if got := p.Match(c.topic); got != c.ok {
			t.Errorf("%q.Match(%q) = %v, want %v", c.pattern, c.topic, got, c.ok)
		}
	}
	// A wildcard inside a token would match no event name: refused.
	for _, bad := range []string{"", "orders.", ".orders", "orders..x", "orders.>.x", ">.x", "orders*", "orders.cr*", "orders.>>"} {
		if _, err := netron.ParseEventPattern(bad); err == nil {
			t.Errorf("ParseEventPattern(%q) accepted it", bad)
		}
	}
}
