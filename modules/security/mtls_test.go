package security_test

import (
	"context"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// With mTLS, a client without a certificate or with one of another CA
// cannot complete a call; a good certificate is the caller's identity
// (security.tls.identity: subject), and security.rbac.subjects gives it
// its roles.
func TestMTLSIdentitySatisfiesRBAC(t *testing.T) {
	t.Parallel()
	s, p, other := newSigner(t), newPKI(t, "server"), newPKI(t, "other")
	addrs, _ := secureApp(t, s, p, []string{"tls://127.0.0.1:0", "https://127.0.0.1:0", "wss://127.0.0.1:0"},
		"security.tls.mtls=true", "security.tls.identity=subject", "security.rbac.subjects.alice=admin")
	aliceCert, aliceKey := p.issue(t, "alice", "alice", true)
	carolCert, carolKey := p.issue(t, "carol", "carol", true)
	strangerCert, strangerKey := other.issue(t, "stranger", "alice", true)
	ctx := context.Background()
	for scheme, addr := range addrs {
		t.Run(scheme, func(t *testing.T) {
			call := func(certFile, keyFile string) (string, error) {
				peer, err := netron.Dial(ctx, addr, netron.WithTLS(nil, p.clientTLS(t, certFile, keyFile)))
				if err != nil {
					return "", err
				}
				defer peer.Close()
				return openVault(ctx, peer)
			}
			if _, err := call("", ""); err == nil {
				t.Error("a client without a certificate completed a call")
			}
			if _, err := call(strangerCert, strangerKey); err == nil {
				t.Error("a client with another CA's certificate completed a call")
			}
			if got, err := call(aliceCert, aliceKey); err != nil || got != "opened gold for alice" {
				t.Errorf("alice's certificate: %q, %v", got, err)
			}
			if _, err := call(carolCert, carolKey); codeOf(err) != netron.CodePermissionDenied {
				t.Errorf("carol's certificate (no role): %v, want permission_denied", err)
			}
		})
	}
}
