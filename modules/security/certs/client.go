package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
)

// Client returns the TLS configuration of dialers: TLS 1.2 at least, the
// server verified against the CA bundle (the system's roots without one)
// and [Config.ServerName] if set, and, when the Store has a certificate,
// the certificate current at each handshake presented to servers that ask
// for one.
//
// The CA certificates trusted are those of the bundle when Client is
// called, each for as long as the bundle keeps it: a CA removed from the
// file is distrusted at the next handshake, one added is trusted by the
// configurations Client returns afterwards. (Trusting a CA added later
// would mean verifying servers in a callback, which cannot check an IP
// address dialled without a server name.)
func (s *Store) Client() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.cfg.ServerName}
	cur := s.current()
	if cur.roots != nil {
		cfg.RootCAs = x509.NewCertPool()
		for _, root := range cur.roots {
			cfg.RootCAs.AddCertWithConstraint(root, s.stillTrusted(root))
		}
	}
	if cur.cert != nil {
		cfg.GetClientCertificate = s.clientCertificate
	}
	return cfg
}

// stillTrusted returns a check that root is still in the CA bundle.
func (s *Store) stillTrusted(root *x509.Certificate) func([]*x509.Certificate) error {
	raw := string(root.Raw)
	return func([]*x509.Certificate) error {
		if !s.current().rootOf[raw] {
			return fmt.Errorf("certs: CA %q is no longer in %s", root.Subject, s.cfg.CA)
		}
		return nil
	}
}

// clientCertificate presents the current certificate.
func (s *Store) clientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	if c := s.current().cert; c != nil {
		return c, nil
	}
	return &tls.Certificate{}, nil // none: the server decides
}
