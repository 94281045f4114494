package security_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/security"
	"github.com/titanframework/titan/modules/security/certs"
)

// selfSigned is a client certificate for cn that no CA signed.
func selfSigned(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// A client certificate is the caller's identity (security.tls.identity)
// only when the handshake verified it against security.tls.ca: a listener
// that asks for certificates without verifying them hands over what the
// client presented, and a self-signed certificate naming alice must not
// make its bearer alice, nor give it alice's roles.
func TestUnverifiedCertificateGivesNoIdentity(t *testing.T) {
	t.Parallel()
	p := newPKI(t, "server")
	cfg := security.DefaultConfig()
	cfg.TLS = certs.Config{Cert: p.certFile, Key: p.keyFile, CA: p.caFile, MTLS: true, Identity: certs.IdentitySubject}
	cfg.RBAC.Subjects = map[string][]string{"alice": {"admin"}}
	g, err := security.New(context.Background(), cfg, security.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	forged := selfSigned(t, "alice").Leaf
	ctx, err := g.Identify(context.Background(), netron.Credentials{
		RemoteAddr: "127.0.0.1:5000",
		TLS:        &tls.ConnectionState{PeerCertificates: []*x509.Certificate{forged}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if id := security.FromContext(ctx); id != nil {
		t.Fatalf("a self-signed certificate no chain verified made the caller %q with roles %v", id.Subject, id.Roles)
	}

	// The same name in a certificate the handshake verified is alice.
	certFile, keyFile := p.issue(t, "alice", "alice", true)
	leaf, _ := x509.ParseCertificate(p.clientTLS(t, certFile, keyFile).Certificates[0].Certificate[0])
	ctx, err = g.Identify(context.Background(), netron.Credentials{
		RemoteAddr: "127.0.0.1:5000",
		TLS: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf},
			VerifiedChains: [][]*x509.Certificate{{leaf, p.ca}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if id := security.FromContext(ctx); id == nil || id.Subject != "alice" || !id.HasRole("admin") {
		t.Fatalf("a verified certificate of alice: identity %+v, want alice with the role admin", id)
	}
}

// The same over an https gateway given its own tls.Config that asks for
// client certificates without verifying them (tls.RequestClientCert):
// a self-signed certificate naming alice is shown only what an anonymous
// caller may call.
func TestUnverifiedCertificateOverHTTPS(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	serverCert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	gatewayTLS := &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	opts := []titan.Option{titan.Provide(fx.Annotate(func() netron.Option {
		return httptransport.WithGatewayOptions(httptransport.WithTLS(gatewayTLS))
	}, fx.ResultTags(`group:"`+netron.OptionGroup+`"`)))}
	addrs, _ := secureAppWith(t, s, p, []string{"https://127.0.0.1:0"}, opts,
		"security.tls.mtls=true", "security.tls.identity=subject", "security.rbac.subjects.alice=admin")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: p.pool, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{selfSigned(t, "alice")},
	}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(addrs["https"] + "/discover")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var d struct {
		Services []struct {
			Name    string   `json:"name"`
			Methods []string `json:"methods"`
		} `json:"services"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("/discover: %d %s", resp.StatusCode, b)
	}
	for _, sv := range d.Services {
		if sv.Name == "vault" && slices.Contains(sv.Methods, "open") {
			t.Fatalf("a self-signed certificate naming alice is shown vault.open: %v", sv.Methods)
		}
	}
}

// A caller that authenticates by token over a listener that asked for a
// client certificate without verifying it is given no certificate in its
// identity either: Identity.Certificate is what the caller proved, and a
// self-signed certificate naming alice proves nothing. A verified one is
// kept.
func TestUnverifiedCertificateNotInTokenIdentity(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	cfg := security.DefaultConfig()
	cfg.JWT.PublicKeyFile = s.pubFile
	g, err := security.New(context.Background(), cfg, security.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	token := s.token(t, claims("bob", nil, nil))

	forged := selfSigned(t, "alice").Leaf
	ctx, err := g.Identify(context.Background(), netron.Credentials{
		Token: token, RemoteAddr: "127.0.0.1:5000",
		TLS: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{forged}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if id := security.FromContext(ctx); id == nil || id.Subject != "bob" || id.Certificate != nil {
		t.Fatalf("a token of bob with a self-signed certificate no chain verified: identity %+v, want bob without a certificate", id)
	}

	certFile, keyFile := p.issue(t, "alice", "alice", true)
	leaf, _ := x509.ParseCertificate(p.clientTLS(t, certFile, keyFile).Certificates[0].Certificate[0])
	ctx, err = g.Identify(context.Background(), netron.Credentials{
		Token: token, RemoteAddr: "127.0.0.1:5000",
		TLS: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf},
			VerifiedChains: [][]*x509.Certificate{{leaf, p.ca}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if id := security.FromContext(ctx); id == nil || id.Subject != "bob" || id.Certificate != leaf {
		t.Fatalf("a token of bob with a verified certificate: identity %+v, want bob with that certificate", id)
	}
}
