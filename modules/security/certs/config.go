package certs

import (
	"errors"
	"fmt"
	"time"
)

// The values of [Config.Identity].
const (
	IdentitySubject = "subject" // the subject's common name
	IdentitySAN     = "san"     // the first URI, else DNS name, else email subject alternative name
)

// DefaultReload is how often the files are checked for change when
// [Config.Reload] is zero.
const DefaultReload = time.Second

// The configuration keys of the fields, as errors name them.
const (
	keyCert     = "security.tls.cert"
	keyKey      = "security.tls.key"
	keyCA       = "security.tls.ca"
	keyMTLS     = "security.tls.mtls"
	keyIdentity = "security.tls.identity"
	keyReload   = "security.tls.reload"
)

// Config is the security.tls section of the Titan configuration. The zero
// Config is valid and turns TLS off: secure schemes then have no
// certificate to listen with and verify servers against the system's
// roots.
type Config struct {
	// Cert is the PEM file of the process's certificate, followed by its
	// intermediate CA certificates if any.
	Cert string `json:"cert,omitempty" jsonschema:"description=PEM certificate (chain) file of this process"`
	// Key is the PEM file of the certificate's private key (PKCS #8, PKCS #1
	// or SEC 1; not encrypted).
	Key string `json:"key,omitempty" jsonschema:"description=PEM private key file of the certificate"`
	// CA is the PEM bundle of CA certificates that client certificates are
	// verified against (with MTLS) and that servers this process dials
	// are verified against. Empty: the system's roots verify servers.
	CA string `json:"ca,omitempty" jsonschema:"description=PEM CA bundle verifying client certificates (mTLS) and the servers this process dials; default the system roots for servers"`
	// MTLS makes servers require a client certificate signed by CA.
	MTLS bool `json:"mtls,omitempty" jsonschema:"description=Require client certificates and verify them against the CA bundle"`
	// Identity is what a verified client certificate says about who calls:
	// "subject" (the common name) or "san" (the first URI, else DNS name,
	// else email subject alternative name); empty: certificates give no
	// identity. It needs MTLS.
	Identity string `json:"identity,omitempty" jsonschema:"enum=,enum=subject,enum=san,description=Caller identity a client certificate gives: subject (common name) or san (first URI else DNS else email SAN); empty for none"`
	// ServerName is the name a dialled server's certificate must hold.
	// Empty: the host of the address dialled.
	ServerName string `json:"serverName,omitempty" jsonschema:"description=Name a dialled server's certificate must hold; default the host of the address"`
	// Reload is how often the files are checked for change, at TLS
	// handshakes (no goroutine watches them). Zero means [DefaultReload].
	Reload time.Duration `json:"reload,omitempty" jsonschema:"description=How often the files are checked for change at handshakes (default 1s)"`
}

// Enabled reports whether the configuration gives the process a
// certificate (Cert and Key are set), which servers need.
func (c Config) Enabled() bool { return c.Cert != "" && c.Key != "" }

// Validate reports every problem of c, each a [*FieldError] naming its
// configuration key: a certificate without its key or the reverse, mtls
// without a CA bundle or a certificate, an unknown identity or one without
// mtls, a negative reload interval, and files that cannot be read or do
// not hold what they should (the error names the file and what is wrong).
// It reads the files.
func (c Config) Validate() error {
	if err := c.check(); err != nil {
		return err
	}
	_, err := load(c)
	return err
}

// check reports the problems of c that do not need the files.
func (c Config) check() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Err: fmt.Errorf(format, args...)})
	}
	if c.Cert != "" && c.Key == "" {
		bad(keyKey, "required when %s is set", keyCert)
	}
	if c.Key != "" && c.Cert == "" {
		bad(keyCert, "required when %s is set", keyKey)
	}
	if c.MTLS {
		if c.CA == "" {
			bad(keyCA, "required when %s is on: client certificates are verified against it", keyMTLS)
		}
		if c.Cert == "" && c.Key == "" {
			bad(keyMTLS, "needs %s and %s: a server asking for client certificates must have one of its own", keyCert, keyKey)
		}
	}
	switch c.Identity {
	case "":
	case IdentitySubject, IdentitySAN:
		if !c.MTLS {
			bad(keyIdentity, "%q needs %s: without client certificates there is no identity to read", c.Identity, keyMTLS)
		}
	default:
		bad(keyIdentity, "unknown identity %q (want %s or %s)", c.Identity, IdentitySubject, IdentitySAN)
	}
	if c.Reload < 0 {
		bad(keyReload, "negative interval %v", c.Reload)
	}
	return errors.Join(errs...)
}

// reload returns the effective reload interval.
func (c Config) reload() time.Duration {
	if c.Reload == 0 {
		return DefaultReload
	}
	return c.Reload
}

// FieldError reports one problem of a [Config]: Key is the configuration
// key, such as "security.tls.key".
type FieldError struct {
	Key string
	Err error
}

// Error returns "<key>: <reason>".
func (e *FieldError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *FieldError) Unwrap() error { return e.Err }
