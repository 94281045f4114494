package security

import "testing"

// The topics of security.events are patterns Subscribe takes, and no
// token holds a wildcard with other characters: such a rule would match
// no event name, and protect nothing. (netron's TestEventPatternMatch
// holds the matching.)
func TestEventRuleTopics(t *testing.T) {
	t.Parallel()
	for _, good := range []string{"orders.created", "orders.*", "*.created", "*", "orders.>", ">", "orders.*.paid"} {
		if err := validEventPattern(good); err != nil {
			t.Errorf("validEventPattern(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", " ", "orders.", ".orders", "orders..x", "orders.>.x", ">.x", "orders*", "orders.cr*", "orders.>>"} {
		if err := validEventPattern(bad); err == nil {
			t.Errorf("validEventPattern(%q) accepted it", bad)
		}
	}
}
