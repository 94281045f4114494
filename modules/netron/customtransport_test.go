package netron_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/tcp"
)

// renamed is TCP under another scheme: a transport nobody registered for
// the process.
type renamed struct{ scheme string }

func (r renamed) Name() string                         { return r.scheme }
func (r renamed) Schemes() []string                    { return []string{r.scheme} }
func (r renamed) Capabilities() transport.Capabilities { return tcp.New().Capabilities() }
func (r renamed) tcp(u *url.URL) *url.URL              { v := *u; v.Scheme = "tcp"; return &v }
func (r renamed) back(addr string) string              { return r.scheme + strings.TrimPrefix(addr, "tcp") }
func (r renamed) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	return tcp.New().Dial(ctx, r.tcp(u), o)
}
func (r renamed) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	l, err := tcp.New().Listen(ctx, r.tcp(u), o)
	if err != nil {
		return nil, err
	}
	return renamedListener{l, r.back(l.Addr())}, nil
}

type renamedListener struct {
	transport.Listener
	addr string
}

func (l renamedListener) Addr() string { return l.addr }

// A Netron's own transports (WithCustomTransports) serve and dial their
// schemes for it alone; another Netron does not know them.
func TestCustomTransports(t *testing.T) {
	mine := netron.WithCustomTransports(renamed{"mytcp"})
	server, err := netron.New(netron.Config{}, nil, mine)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Stop(context.Background())
	if err := server.Register("echo", "1.0.0", Echo{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	addr, err := server.Listen(ctx, "mytcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "mytcp://") {
		t.Fatalf("Listen = %q", addr)
	}
	client, err := netron.New(netron.Config{}, nil, mine)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	p, err := client.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if s, err := netron.CallUnary[string](ctx, p, "echo@1.0.0", "echo", "hi"); err != nil || s != "hi" {
		t.Fatalf("echo over mytcp = %q, %v", s, err)
	}
	if _, err := netron.Dial(ctx, addr); err == nil || !strings.Contains(err.Error(), `unknown scheme "mytcp"`) {
		t.Fatalf("a Netron without the transport dialled %s: %v", addr, err)
	}
}
