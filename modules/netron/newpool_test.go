package netron_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// A pool with nothing to find its instances by says which pool and what
// to give.
func TestNewPoolWithoutResolverNamesTheTarget(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.NewPool("orders@^2", nil)
	if err == nil {
		t.Fatal("NewPool with no resolver and no address succeeded")
	}
	for _, want := range []string{`NewPool("orders@^2")`, "Resolver", "WithAddress"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\nwant it to name %s", err, want)
		}
	}
}
