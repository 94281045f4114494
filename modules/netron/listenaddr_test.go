package netron_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// A Listen that fails names its address without the credentials it
// carries (a NATS URL's user and password): the error reaches logs and
// the app's start-up failure.
func TestListenErrorHidesCredentials(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	for _, addr := range []string{
		"tcp://user:s3cret@256.1.1.1:0",     // the transport refuses it
		"tcp://user:s3cret@127.0.0.1:0/%zz", // it does not parse
		"user:s3cret@127.0.0.1",             // its scheme forgotten
	} {
		_, err := n.Listen(context.Background(), addr)
		if err == nil {
			t.Fatalf("Listen(%q) succeeded", addr)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Listen(%q): %v: shows the password", addr, err)
		}
	}
}

// Nor does a pool's address option, whose description errors quote.
func TestAddressOptionHidesCredentials(t *testing.T) {
	t.Parallel()
	err := netron.CheckPoolOptions(netron.WithAddress("nats://user:s3cret@127.0.0.1:4222"), netron.WithAddress("nats://user:s3cret@127.0.0.1:4223"))
	if err == nil {
		t.Fatal("two different addresses were accepted")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("%v: shows the password", err)
	}
}
