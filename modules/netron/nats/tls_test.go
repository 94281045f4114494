package nats_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/titanframework/titan/modules/netron"
)

// A NATS server that requires TLS is spoken to with the Netron's client
// TLS configuration (netron.WithTLS, the security module's security.tls),
// by the gateway that serves through it and by a client that dials it; a
// Netron whose configuration does not trust the server's certificate
// cannot connect.
func TestServerRequiresTLS(t *testing.T) {
	t.Parallel()
	ns, pool := tlsServer(t)
	addr := fmt.Sprintf("nats://%s?prefix=tls", ns.Addr().String())
	client := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

	ctx := context.Background()
	srv, err := netron.New(netron.Config{}, nil, netron.WithTLS(nil, client))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop(ctx)
	if err := srv.Register("calc", "1.0.0", newCalc()); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Listen(ctx, addr); err != nil {
		t.Fatalf("the gateway could not connect over TLS: %v", err)
	}
	p, err := netron.Dial(ctx, addr, netron.WithTLS(nil, client))
	if err != nil {
		t.Fatalf("dial over TLS: %v", err)
	}
	defer p.Close()
	r, err := p.Call(ctx, "calc@1.0.0", "add", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	if err := r.Decode(&sum); err != nil || sum != 5 {
		t.Fatalf("add = %v, %v", sum, err)
	}
	if p, err := netron.Dial(ctx, addr); err == nil {
		p.Close()
		t.Fatal("a client that does not trust the server's CA connected")
	}
}

// tlsServer starts an in-process nats-server that requires TLS, with a
// certificate for 127.0.0.1 from a CA of its own, shut down at cleanup; it
// returns the server and a pool that trusts the CA.
func tlsServer(t *testing.T) (*server.Server, *x509.CertPool) {
	t.Helper()
	ca, caKey := selfSignedCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srvCert := leaf(t, ca, caKey, "127.0.0.1")
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		TLS: true, TLSConfig: &tls.Config{Certificates: []tls.Certificate{srvCert}, MinVersion: tls.VersionTLS12},
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	return ns, pool
}

func selfSignedCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nats test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return ca, key
}

func leaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, ip string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP(ip)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
