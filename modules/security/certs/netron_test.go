package certs_test

import (
	"context"
	"crypto/tls"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security/certs"
)

// Who is the service the tests call: it tells the caller who it is.
type Who struct{}

// Whoami returns the identity of the caller's verified certificate (san),
// or "anonymous" over a connection without one.
func (Who) Whoami(ctx context.Context) (string, error) {
	st := netron.PeerFromContext(ctx).TLS()
	if st == nil || len(st.VerifiedChains) == 0 {
		return "anonymous", nil
	}
	return certs.IdentityOf(st.VerifiedChains[0][0], certs.IdentitySAN), nil
}

// serve serves Who at a new listener of scheme (tls or wss) on 127.0.0.1
// with store's server configuration, until the test ends.
func serve(t *testing.T, store *certs.Store, scheme string) string {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil, netron.WithTLS(store.Server(), nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	if err := n.Register("who", "1.0.0", Who{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), scheme+"://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// callTimeout bounds every call of the tests: a refused client must fail
// well within it, not hang.
const callTimeout = 5 * time.Second

// call dials addr with client, calls who.whoami and hangs up.
func call(addr string, client *tls.Config) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	p, err := netron.Dial(ctx, addr, netron.WithTLS(nil, client))
	if err != nil {
		return "", err
	}
	defer p.Close()
	return netron.CallUnary[string](ctx, p, "who", "whoami")
}

// mustRefuse checks that a call with client fails, and promptly.
func mustRefuse(t *testing.T, addr string, client *tls.Config) {
	t.Helper()
	start := time.Now()
	who, err := call(addr, client)
	if err == nil {
		t.Fatalf("call succeeded as %q, want it refused", who)
	}
	if d := time.Since(start); d > callTimeout/2 {
		t.Fatalf("refused after %v (%v), want a prompt failure", d, err)
	}
	t.Logf("refused: %v", err)
}

// newStore returns the Store of c or fails the test.
func newStore(t *testing.T, c certs.Config) *certs.Store {
	t.Helper()
	s, err := certs.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// watchServer makes client record the common name of the server
// certificate of each handshake.
func watchServer(client *tls.Config) (*tls.Config, *atomic.Value) {
	var seen atomic.Value
	seen.Store("")
	client.VerifyConnection = func(cs tls.ConnectionState) error {
		seen.Store(cs.PeerCertificates[0].Subject.CommonName)
		return nil
	}
	return client, &seen
}

// eventually calls f every few milliseconds until it reports true, failing
// the test after a few seconds.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
