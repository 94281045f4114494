package netron_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A package above the engine records options of its own on a service with
// WithExtension; gateways read them from Describe, and a bad value fails
// Register naming the option.
func TestServiceExtensions(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	positive := func(v any) error {
		if i, _ := v.(int); i <= 0 {
			return errors.New("want a positive number")
		}
		return nil
	}
	if err := n.Register("echo", "1.0.0", Echo{}, netron.WithExtension("Quota", "acme.quota", 7, positive)); err != nil {
		t.Fatal(err)
	}
	ds := n.Describe()
	if len(ds) != 1 || ds[0].Extensions["acme.quota"] != 7 {
		t.Fatalf("Describe() extensions = %v, want acme.quota: 7", ds[0].Extensions)
	}
	err = n.Register("echo", "2.0.0", Echo{}, netron.WithExtension("Quota", "acme.quota", -1, positive))
	if err == nil || !strings.Contains(err.Error(), "Quota(-1): want a positive number") {
		t.Fatalf("a bad extension: %v, want the option named with its reason", err)
	}
	// The deprecated WithHTTP records the HTTP gateway's extension.
	if err := n.Register("old", "1.0.0", Echo{}, netron.WithHTTP("/old")); err != nil {
		t.Fatal(err)
	}
	for _, d := range n.Describe() {
		if d.Name == "old" && (d.Extensions["http.path"] != "/old" || d.HTTPPath != "/old") {
			t.Fatalf("WithHTTP: extensions %v, HTTPPath %q", d.Extensions, d.HTTPPath)
		}
	}
}

// A negative TTL is refused the same way by Cache and CacheTTL.
func TestNegativeTTLs(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Register("echo", "1.0.0", Echo{}, netron.WithCache(-time.Second))
	if err == nil || !strings.Contains(err.Error(), "Cache(-1s): negative TTL") {
		t.Fatalf("WithCache(-1s): %v", err)
	}
	err = n.Register("echo", "1.0.0", Echo{}, netron.WithMethod("echo", netron.WithCacheTTL(-time.Second)))
	if err == nil || !strings.Contains(err.Error(), "CacheTTL(-1s): negative TTL") {
		t.Fatalf("WithCacheTTL(-1s): %v", err)
	}
}
