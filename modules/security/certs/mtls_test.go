package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"testing"

	"github.com/titanframework/titan/modules/security/certs"
)

// mtlsPKI is a server with mTLS against its CA, and clients with and
// without a certificate of that CA, and with one of another CA.
type mtlsPKI struct {
	server                *certs.Store
	good, noCert, otherCA *tls.Config
	goodIdentity          string
}

func newMTLSPKI(t *testing.T) mtlsPKI {
	t.Helper()
	ca, other := newCA(t, "titan CA"), newCA(t, "other CA")
	srv := writeFiles(t, ca.issue(t, "server"), ca.pem)
	id, _ := url.Parse("spiffe://titan.test/orders")
	good := writeFiles(t, ca.issue(t, "orders", func(c *x509.Certificate) { c.URIs = []*url.URL{id} }), ca.pem)
	foreign := writeFiles(t, other.issue(t, "intruder"), ca.pem)
	return mtlsPKI{
		server:       newStore(t, certs.Config{Cert: srv.cert, Key: srv.key, CA: srv.ca, MTLS: true, Identity: certs.IdentitySAN}),
		good:         newStore(t, certs.Config{Cert: good.cert, Key: good.key, CA: good.ca}).Client(),
		noCert:       newStore(t, certs.Config{CA: srv.ca}).Client(),
		otherCA:      newStore(t, certs.Config{Cert: foreign.cert, Key: foreign.key, CA: foreign.ca}).Client(),
		goodIdentity: id.String(),
	}
}

// TestMTLS holds the acceptance of the issue over tls:// and wss://: a
// client without a certificate, or with one of another CA, cannot
// complete a call; a client with a good one can.
func TestMTLS(t *testing.T) {
	t.Parallel()
	pki := newMTLSPKI(t)
	for _, scheme := range []string{"tls", "wss"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			addr := serve(t, pki.server, scheme)
			t.Run("good certificate", func(t *testing.T) {
				who, err := call(addr, pki.good)
				if err != nil {
					t.Fatal(err)
				}
				if who != pki.goodIdentity {
					t.Errorf("whoami = %q, want %q", who, pki.goodIdentity)
				}
			})
			t.Run("no certificate", func(t *testing.T) { mustRefuse(t, addr, pki.noCert) })
			t.Run("certificate of another CA", func(t *testing.T) { mustRefuse(t, addr, pki.otherCA) })
			t.Run("TLS 1.1", func(t *testing.T) {
				old := pki.good.Clone()
				old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
				mustRefuse(t, addr, old)
			})
		})
	}
}

// TestServerConfig checks the settings the issue asks of every listener
// and dialer.
func TestServerConfig(t *testing.T) {
	t.Parallel()
	pki := newMTLSPKI(t)
	srv := pki.server.Server()
	if srv.MinVersion != tls.VersionTLS12 || pki.good.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion server %x, client %x; want TLS 1.2 (%x)", srv.MinVersion, pki.good.MinVersion, tls.VersionTLS12)
	}
	if srv.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("ClientAuth = %v, want RequireAndVerifyClientCert", srv.ClientAuth)
	}
	per, err := srv.GetConfigForClient(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if per.ClientAuth != tls.RequireAndVerifyClientCert || per.ClientCAs == nil || per.MinVersion != tls.VersionTLS12 {
		t.Errorf("per-handshake config: ClientAuth %v, ClientCAs %v, MinVersion %x", per.ClientAuth, per.ClientCAs, per.MinVersion)
	}
	if s := newStore(t, certs.Config{}); s.Server() != nil {
		t.Error("Server() of a Store without a certificate is not nil")
	}
}
