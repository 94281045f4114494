package limit

import (
	"net/netip"
	"testing"
)

// MaxConnsPerIP counts an IPv6 caller by its /64 network: addresses of
// one /64 share the cap, another /64 has its own; IPv4 addresses are
// counted one by one.
func TestPerIPCountsIPv6ByNetwork(t *testing.T) {
	c := NewConns(0, 2, nil, "test")
	ip := netip.MustParseAddr
	for _, a := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"} {
		if !c.Acquire(ip(a)) {
			t.Fatalf("%s refused under the cap", a)
		}
	}
	if c.Acquire(ip("2001:db8:1:2:abcd::1")) {
		t.Fatal("a third address of the same /64 was not refused with MaxConnsPerIP 2")
	}
	if !c.Acquire(ip("2001:db8:1:3::1")) {
		t.Fatal("another /64 was refused")
	}
	for _, a := range []string{"192.0.2.1", "192.0.2.1", "192.0.2.2"} {
		if !c.Acquire(ip(a)) {
			t.Fatalf("%s refused under the cap", a)
		}
	}
	if c.Acquire(ip("192.0.2.1")) {
		t.Fatal("a third connection from 192.0.2.1 was not refused")
	}
	c.Release(ip("2001:db8:1:2::1"))
	if !c.Acquire(ip("2001:db8:1:2::77")) {
		t.Fatal("a released connection of the /64 did not free its place")
	}
	for _, a := range []string{"2001:db8:1:2:ffff::9", "2001:db8:1:2::77", "2001:db8:1:3::1", "192.0.2.1", "192.0.2.1", "192.0.2.2"} {
		c.Release(ip(a))
	}
	if n, left := c.Open(), len(c.byIP); n != 0 || left != 0 {
		t.Fatalf("after every release: %d open, %d counted addresses, want none", n, left)
	}
}
