package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// loaded is one consistent reading of a configuration's files.
type loaded struct {
	cert   *tls.Certificate    // nil without Cert and Key
	roots  []*x509.Certificate // the CA bundle; nil without CA
	pool   *x509.CertPool      // roots as a pool; nil without CA
	rootOf map[string]bool     // the DER of each root, to tell whether one is still in the bundle
	mtls   *tls.Config         // what a server hands out per handshake with MTLS
	stamps stamps              // of the files read, taken before reading them
}

// stamps holds what the files of a configuration looked like when they
// were read, in the order of [Config.files]: a nil entry is a file not set.
type stamps []os.FileInfo

// same reports whether s and t describe the same files, unchanged: the
// same file (not one renamed over it), modification time and size.
func (s stamps) same(t stamps) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		a, b := s[i], t[i]
		if a == nil || b == nil {
			if a != b {
				return false
			}
			continue
		}
		if !os.SameFile(a, b) || !a.ModTime().Equal(b.ModTime()) || a.Size() != b.Size() {
			return false
		}
	}
	return true
}

// file is a file of a configuration with the key that names it.
type file struct{ key, path string }

// files returns the files of c: cert, key and CA, with an empty path for
// those not set.
func (c Config) files() []file {
	return []file{{keyCert, c.Cert}, {keyKey, c.Key}, {keyCA, c.CA}}
}

// stat returns the stamps of c's files.
func stat(c Config) (stamps, error) {
	st := make(stamps, 3)
	var errs []error
	for i, f := range c.files() {
		if f.path == "" {
			continue
		}
		fi, err := os.Stat(f.path)
		if err != nil {
			errs = append(errs, &FieldError{Key: f.key, Err: err})
			continue
		}
		st[i] = fi
	}
	return st, errors.Join(errs...)
}

// load reads c's files, which c.check accepted. Errors are [*FieldError]s
// naming the file.
func load(c Config) (*loaded, error) {
	st, err := stat(c) // before reading: a change while reading is seen at the next check
	if err != nil {
		return nil, err
	}
	l := &loaded{stamps: st}
	var errs []error
	if c.Cert != "" && c.Key != "" {
		l.cert, err = loadKeyPair(c.Cert, c.Key)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.CA != "" {
		l.roots, err = loadCA(c.CA)
		if err != nil {
			errs = append(errs, err)
		} else {
			l.pool = x509.NewCertPool()
			l.rootOf = make(map[string]bool, len(l.roots))
			for _, r := range l.roots {
				l.pool.AddCert(r)
				l.rootOf[string(r.Raw)] = true
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if c.MTLS {
		l.mtls = &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{*l.cert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    l.pool,
		}
	}
	return l, nil
}

// loadKeyPair reads the certificate chain at certPath and its private key
// at keyPath.
func loadKeyPair(certPath, keyPath string) (*tls.Certificate, error) {
	chain, certErr := readCerts(keyCert, certPath)
	key, keyErr := readKey(keyPath)
	if certErr != nil || keyErr != nil {
		return nil, errors.Join(certErr, keyErr)
	}
	pub, ok := chain[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, &FieldError{Key: keyKey, Err: fmt.Errorf("%s: the private key does not match the certificate in %s", keyPath, certPath)}
	}
	cert := &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

// loadCA reads the CA bundle at path.
func loadCA(path string) ([]*x509.Certificate, error) {
	return readCerts(keyCA, path)
}

// readCerts reads the CERTIFICATE blocks of the PEM file at path, which
// the configuration key names.
func readCerts(key, path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FieldError{Key: key, Err: err}
	}
	certs, err := parseCerts(data)
	if err != nil {
		return nil, &FieldError{Key: key, Err: fmt.Errorf("%s: %w", path, err)}
	}
	return certs, nil
}

// parseCerts parses a PEM file of certificates: every block must be a
// CERTIFICATE, and there must be one.
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest, n := data, 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if err := incomplete(rest, n); err != nil {
				return nil, err
			}
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is %q, want CERTIFICATE", n, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no CERTIFICATE PEM block")
	}
	return certs, nil
}

// readKey reads the private key in the PEM file at path. Its errors never
// quote the file's content.
func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &FieldError{Key: keyKey, Err: err}
	}
	key, err := parseKey(data)
	if err != nil {
		return nil, &FieldError{Key: keyKey, Err: fmt.Errorf("%s: %w", path, err)}
	}
	return key, nil
}

// parseKey returns the first private key of a PEM file, skipping other
// blocks (such as EC PARAMETERS).
func parseKey(data []byte) (crypto.Signer, error) {
	for rest, n := data, 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if err := incomplete(rest, n); err != nil {
				return nil, err
			}
			return nil, errors.New("no PRIVATE KEY PEM block")
		}
		if block.Type != "PRIVATE KEY" && !strings.HasSuffix(block.Type, " PRIVATE KEY") {
			continue
		}
		if _, encrypted := block.Headers["DEK-Info"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, fmt.Errorf("PEM block %d: the private key is encrypted, which is not supported", n)
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %d (%s): %w", n, block.Type, err)
		}
		switch k := key.(type) {
		case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
			return k.(crypto.Signer), nil
		}
		return nil, fmt.Errorf("PEM block %d: unsupported private key type %T", n, key)
	}
}

// incomplete reports a PEM block that starts in rest (what pem.Decode
// could not decode) but does not decode: it does not end (the file was
// cut, or is being written) or its content is damaged. n is the number
// the block would have.
func incomplete(rest []byte, n int) error {
	if bytes.Contains(rest, []byte("-----BEGIN ")) {
		return fmt.Errorf("PEM block %d is incomplete or damaged (a file cut short, or being written?)", n)
	}
	return nil
}
