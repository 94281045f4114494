package certs

import (
	"crypto/tls"
	"errors"
)

// errNoCertificate fails a handshake served by a Store without a
// certificate, which Server does not let happen (it returns nil).
var errNoCertificate = errors.New("certs: no certificate configured (" + keyCert + ", " + keyKey + ")")

// Server returns the TLS configuration of listeners, or nil when the Store
// has no certificate ([Config.Enabled] is false). Each handshake is served
// the certificate current then; TLS 1.2 is the minimum. With MTLS, a client
// must present a certificate that verifies against the CA bundle current
// then (so a rotated CA bundle applies to the next handshakes); the
// configuration does this through GetConfigForClient, whose answer offers
// no ALPN protocol, so HTTP over it is HTTP/1.1.
//
// The configuration may be cloned (as the transports do) and shared.
func (s *Store) Server() *tls.Config {
	if !s.cfg.Enabled() {
		return nil
	}
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: s.certificate,
	}
	if s.cfg.MTLS {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = s.cur.Load().pool // GetConfigForClient replaces it by the current one
		cfg.GetConfigForClient = s.mtlsConfig
	}
	return cfg
}

// certificate serves the current certificate.
func (s *Store) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := s.current().cert; c != nil {
		return c, nil
	}
	return nil, errNoCertificate
}

// mtlsConfig answers a handshake with the current certificate and CA
// bundle.
func (s *Store) mtlsConfig(*tls.ClientHelloInfo) (*tls.Config, error) {
	if c := s.current().mtls; c != nil {
		return c, nil
	}
	return nil, errNoCertificate
}
