package certs

import "crypto/x509"

// IdentityOf returns the caller identity that cert gives in mode (see
// [Config.Identity]): for [IdentitySubject] the subject's common name, for
// [IdentitySAN] the first URI subject alternative name, else the first DNS
// name, else the first email address. It returns "" for a nil cert, a
// mode that is neither, or a certificate without the name asked for.
//
// Use it on a verified certificate only, such as
// tls.ConnectionState.VerifiedChains[0][0] of a connection served with
// mtls.
func IdentityOf(cert *x509.Certificate, mode string) string {
	if cert == nil {
		return ""
	}
	switch mode {
	case IdentitySubject:
		return cert.Subject.CommonName
	case IdentitySAN:
		switch {
		case len(cert.URIs) > 0:
			return cert.URIs[0].String()
		case len(cert.DNSNames) > 0:
			return cert.DNSNames[0]
		case len(cert.EmailAddresses) > 0:
			return cert.EmailAddresses[0]
		}
	}
	return ""
}
