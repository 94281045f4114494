package transport_test

import (
	"testing"

	"github.com/titanframework/titan/modules/netron/transport"
)

// A scope keeps one value per key, made once; scopes do not see each
// other's; nil is the process's scope, the same on every call.
func TestPortsValue(t *testing.T) {
	made := 0
	mk := func() any { made++; return new(int) }
	var a, b transport.Ports
	if a.Value("k", mk) != a.Value("k", mk) || made != 1 {
		t.Fatalf("one scope made its value %d times or returned two", made)
	}
	if a.Value("k", mk) == b.Value("k", mk) {
		t.Fatal("two scopes share a value")
	}
	var none *transport.Ports
	if none.Value("ports_test", mk) != none.Value("ports_test", mk) || none.Value("ports_test", mk) == a.Value("ports_test", mk) {
		t.Fatal("the process scope is not one scope of its own")
	}
}
