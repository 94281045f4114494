package security_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
)

// An app that only dials secure servers sets security.tls.ca (and
// serverName) without a certificate of its own: its dials verify servers
// against that CA bundle, as the key says, not against the system's roots
// as though the section were empty.
func TestTLSClientOnlyTrustsTheCA(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureAppWith(t, s, p, []string{"tls://127.0.0.1:0"}, nil)

	var n *netron.Netron
	testsrv.StartApp(t, titan.WithConfig(config.Options{Sets: []string{
		"logger.level=error", "netron.listen=tcp://127.0.0.1:0", "security.tls.ca=" + p.caFile,
	}, Environ: []string{}, NoDefaultFile: true, NoWatch: true}), titan.Invoke(func(x *netron.Netron) { n = x }))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	peer, err := n.Dial(ctx, addrs["tls"])
	if err != nil {
		t.Fatalf("dialling %s with security.tls.ca set to the server's CA: %v", addrs["tls"], err)
	}
	defer peer.Close()
	if pong, err := netron.CallUnary[string](ctx, peer, "vault@1.0.0", "ping"); err != nil || pong != "pong" {
		t.Fatalf("ping over tls: %q, %v", pong, err)
	}
}
