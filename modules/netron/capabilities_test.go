package netron_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/mem"
)

// noStream is the mem transport claiming it cannot stream.
type noStream struct{ *mem.Transport }

func (noStream) Name() string      { return "nostream" }
func (noStream) Schemes() []string { return []string{"nostream"} }
func (t noStream) Capabilities() transport.Capabilities {
	c := t.Transport.Capabilities()
	c.Streaming = false
	return c
}
func (t noStream) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	return t.Transport.Listen(ctx, &url.URL{Scheme: "mem", Host: u.Host}, o)
}

func init() { transport.Register(noStream{mem.New()}) }

type unaryOnly struct{}

func (unaryOnly) Ping(context.Context) (string, error) { return "pong", nil }

func TestCapabilitiesChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	_, err = n.Listen(ctx, "nostream://caps-a")
	if err == nil || !strings.Contains(err.Error(), "calculator@1.0.0") || !strings.Contains(err.Error(), "count") {
		t.Fatalf("listening without streaming for a stream service: %v", err)
	}

	// Restricted to other transports, the service does not stop the listener.
	m, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop(ctx)
	if err := m.Register("calculator", "1.0.0", &Calc{}, netron.WithTransports("tcp")); err != nil {
		t.Fatal(err)
	}
	if err := m.Register("ping", "1.0.0", unaryOnly{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Listen(ctx, "nostream://caps-b"); err != nil {
		t.Fatalf("listen: %v", err)
	}
	// A stream service registered after the listener is refused too.
	if err := m.Register("calc2", "1.0.0", &Calc{}); err == nil || !strings.Contains(err.Error(), "streams") {
		t.Fatalf("late registration: %v", err)
	}
}
