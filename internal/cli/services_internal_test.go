package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/discovery"
)

// TestRegistrySchemesAreLinked: every scheme --registry accepts names a
// discovery backend the titan command links, so that the check of
// --registry and discovery.Open agree.
func TestRegistrySchemesAreLinked(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // a backend that is there fails at once; one that is not, before trying
	for _, scheme := range registrySchemes {
		c := discovery.DefaultConfig()
		c.Backend, c.URL = scheme, scheme+"://127.0.0.1:1"
		r, err := discovery.Open(ctx, c, nil)
		if err == nil {
			r.Close()
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "no such backend") || strings.Contains(msg, "not linked") {
			t.Errorf("--registry %s://: %v", scheme, err)
		}
	}
}
