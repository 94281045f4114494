package embedded_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron/transport/nats/embedded"
)

// The old import path starts the in-process server.
func TestForwarders(t *testing.T) {
	s, err := embedded.Start(embedded.WithMaxPayload(1 << 20))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if !strings.HasPrefix(s.URL(), "nats://127.0.0.1:") {
		t.Fatalf("URL = %q", s.URL())
	}
}
