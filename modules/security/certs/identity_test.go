package certs_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"

	"github.com/titanframework/titan/modules/security/certs"
)

// TestIdentityOf checks what each mode reads of a certificate.
func TestIdentityOf(t *testing.T) {
	t.Parallel()
	spiffe, _ := url.Parse("spiffe://titan.test/orders")
	full := &x509.Certificate{
		Subject:        pkix.Name{CommonName: "orders", Organization: []string{"titan"}},
		URIs:           []*url.URL{spiffe},
		DNSNames:       []string{"orders.internal", "orders"},
		EmailAddresses: []string{"orders@titan.test"},
	}
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		mode string
		want string
	}{
		{"subject", full, certs.IdentitySubject, "orders"},
		{"san: URI first", full, certs.IdentitySAN, "spiffe://titan.test/orders"},
		{"san: else DNS", &x509.Certificate{DNSNames: []string{"orders.internal"}, EmailAddresses: []string{"orders@titan.test"}}, certs.IdentitySAN, "orders.internal"},
		{"san: else email", &x509.Certificate{EmailAddresses: []string{"orders@titan.test"}}, certs.IdentitySAN, "orders@titan.test"},
		{"san: none", &x509.Certificate{Subject: pkix.Name{CommonName: "orders"}}, certs.IdentitySAN, ""},
		{"subject: no common name", &x509.Certificate{DNSNames: []string{"orders"}}, certs.IdentitySubject, ""},
		{"no identity", full, "", ""},
		{"unknown mode", full, "cn", ""},
		{"nil certificate", nil, certs.IdentitySubject, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := certs.IdentityOf(tc.cert, tc.mode); got != tc.want {
				t.Errorf("IdentityOf(%s) = %q, want %q", tc.mode, got, tc.want)
			}
		})
	}
}
