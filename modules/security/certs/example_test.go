package certs_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/url"

	"github.com/titanframework/titan/modules/security/certs"
)

func ExampleConfig_Validate() {
	cfg := certs.Config{Cert: "server.pem", MTLS: true, Identity: "cn"}
	fmt.Println(cfg.Validate())
	// Output:
	// security.tls.key: required when security.tls.cert is set
	// security.tls.ca: required when security.tls.mtls is on: client certificates are verified against it
	// security.tls.identity: unknown identity "cn" (want subject or san)
}

func ExampleIdentityOf() {
	id, _ := url.Parse("spiffe://titan.test/orders")
	cert := &x509.Certificate{
		Subject:  pkix.Name{CommonName: "orders"},
		URIs:     []*url.URL{id},
		DNSNames: []string{"orders.internal"},
	}
	fmt.Println(certs.IdentityOf(cert, certs.IdentitySubject))
	fmt.Println(certs.IdentityOf(cert, certs.IdentitySAN))
	// Output:
	// orders
	// spiffe://titan.test/orders
}
