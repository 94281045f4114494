package transport_test

import (
	"net/netip"
	"testing"

	"github.com/titanframework/titan/modules/netron/transport"
)

func TestClientNetwork(t *testing.T) {
	for _, c := range []struct{ ip, want string }{
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	} {
		if got := transport.ClientNetwork(netip.MustParseAddr(c.ip)); got.String() != c.want {
			t.Errorf("ClientNetwork(%s) = %s, want %s", c.ip, got, c.want)
		}
	}
	if got := transport.ClientNetwork(netip.Addr{}); got.IsValid() {
		t.Errorf("ClientNetwork of the zero Addr = %s, want the zero Prefix", got)
	}
}
