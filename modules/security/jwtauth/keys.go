package jwtauth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// keySet is what a [Config] resolves to: the accepted algorithms and the
// keys.
type keySet struct {
	// algs are the accepted algorithms.
	algs []string
	// verify verifies tokens: a secret ([]byte) or a public key; nil when
	// the keys come from a JWKS.
	verify any
	// sign signs minted tokens with signAlg: a secret or a private key; nil
	// when the configuration holds neither.
	sign    any
	signAlg string
}

// load reads the keys c names and checks them against the algorithms. Every
// error names its configuration key.
func (c Config) load() (*keySet, error) {
	if !c.Enabled() {
		return nil, fmt.Errorf("%s: no key configured (set secret, secretFile, publicKeyFile, privateKeyFile or jwksURL)", configKey)
	}
	errs := c.checkScalars()
	errs = append(errs, checkAlgorithmNames(c.Algorithms)...)
	if len(errs) > 0 {
		return nil, joinProblems(errs)
	}
	ks := &keySet{algs: slices.Compact(slices.Clone(c.Algorithms))}
	switch {
	case c.Secret != "" || c.SecretFile != "":
		secret, err := c.loadSecret()
		if err != nil {
			return nil, err
		}
		ks.verify, ks.sign = secret, secret
	default:
		var pub crypto.PublicKey
		if c.PublicKeyFile != "" {
			k, err := readPublicKey(c.PublicKeyFile)
			if err != nil {
				return nil, fmt.Errorf("%s.publicKeyFile: %w", configKey, err)
			}
			pub = k
		}
		if c.PrivateKeyFile != "" {
			priv, err := readPrivateKey(c.PrivateKeyFile)
			if err != nil {
				return nil, fmt.Errorf("%s.privateKeyFile: %w", configKey, err)
			}
			if pub != nil && !samePublicKey(pub, priv.Public()) {
				return nil, fmt.Errorf("%s.privateKeyFile: the key does not match publicKeyFile", configKey)
			}
			if pub == nil && c.JWKSURL == "" {
				pub = priv.Public()
			}
			ks.sign = priv
		}
		if pub != nil {
			ks.verify = pub
		}
	}
	if len(ks.algs) == 0 {
		if ks.verify != nil {
			ks.algs = []string{defaultAlgorithm(ks.verify)}
		} else {
			ks.algs = slices.Clone(jwksAlgorithms)
		}
	}
	if err := ks.check(c); err != nil {
		return nil, err
	}
	return ks, nil
}

// check reports the accepted algorithms that do not fit the keys, and picks
// the algorithm minted tokens are signed with.
func (ks *keySet) check(c Config) error {
	var errs []error
	for _, alg := range ks.algs {
		a := algorithms[alg]
		switch {
		case ks.verify == nil && a.family == familyHMAC:
			errs = append(errs, fmt.Errorf("%s.algorithms: %s cannot be used with jwksURL (a published key set holds no HMAC secret)", configKey, alg))
		case ks.verify == nil:
		case a.family == familyHMAC && fitsFamily(alg, ks.verify):
			if !fits(alg, ks.verify) {
				errs = append(errs, fmt.Errorf("%s.%s: an %s secret must be at least %d bytes (it has %d)", configKey, c.secretKey(), alg, a.size, len(ks.verify.([]byte))))
			}
		case !fits(alg, ks.verify):
			errs = append(errs, fmt.Errorf("%s.algorithms: %s does not fit %s (%s)", configKey, alg, describeKey(ks.verify), c.keySource()))
		}
	}
	if len(errs) > 0 {
		return joinProblems(errs)
	}
	if ks.sign != nil {
		for _, alg := range ks.algs {
			if fits(alg, ks.sign) {
				ks.signAlg = alg
				break
			}
		}
		if ks.signAlg == "" {
			return fmt.Errorf("%s.privateKeyFile: %s fits none of the accepted algorithms (%s)", configKey, describeKey(ks.sign), strings.Join(ks.algs, ", "))
		}
	}
	return nil
}

// fitsFamily reports whether alg is for keys of key's family.
func fitsFamily(alg string, key any) bool {
	f, _ := keyFamily(key)
	return algorithms[alg].family == f
}

// secretKey names the configuration key the secret came from.
func (c Config) secretKey() string {
	if c.SecretFile != "" {
		return "secretFile"
	}
	return "secret"
}

// keySource names the configuration key the verification key came from.
func (c Config) keySource() string {
	switch {
	case c.Secret != "" || c.SecretFile != "":
		return c.secretKey()
	case c.PublicKeyFile != "":
		return "publicKeyFile " + c.PublicKeyFile
	case c.PrivateKeyFile != "":
		return "privateKeyFile " + c.PrivateKeyFile
	}
	return "jwksURL"
}

// loadSecret returns the HMAC secret of c.
func (c Config) loadSecret() ([]byte, error) {
	secret := []byte(c.Secret)
	if c.SecretFile != "" {
		b, err := os.ReadFile(c.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("%s.secretFile: %w", configKey, err)
		}
		secret = bytes.TrimRight(b, "\r\n")
		if len(secret) == 0 {
			return nil, fmt.Errorf("%s.secretFile: %s is empty", configKey, c.SecretFile)
		}
	}
	if bytes.Contains(secret, []byte("-----BEGIN ")) {
		return nil, fmt.Errorf("%s.%s: holds a PEM block, not an HMAC secret; a public key goes in publicKeyFile", configKey, c.secretKey())
	}
	return secret, nil
}

// readPublicKey reads a PEM public key or certificate from path.
func readPublicKey(path string) (crypto.PublicKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			key = cert.PublicKey
		}
	default:
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("%s holds a private key; name it in privateKeyFile instead", path)
		}
		return nil, fmt.Errorf("%s: a %q PEM block is not a public key or certificate", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return checkKey(path, key)
}

// readPrivateKey reads a PEM private key from path.
func readPrivateKey(path string) (crypto.Signer, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("%s: encrypted private keys are not supported", path)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s: a %q PEM block is not a private key", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := checkKey(path, key); err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %T keys are not supported (use RSA, ECDSA or Ed25519)", path, key)
	}
	return signer, nil
}

// readPEM returns the first PEM block of the file at path, skipping EC
// parameters.
func readPEM(path string) (*pem.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%s holds no PEM block", path)
		}
		if block.Type != "EC PARAMETERS" {
			return block, nil
		}
	}
}

// checkKey refuses the keys no algorithm can use: other types, RSA below
// 2048 bits, curves other than P-256, P-384 and P-521.
func checkKey(path string, key any) (any, error) {
	f, size := keyFamily(key)
	switch f {
	case familyRSA:
		if size < minRSABits {
			return nil, fmt.Errorf("%s: an RSA key must have at least %d bits (it has %d)", path, minRSABits, size)
		}
	case familyECDSA:
		if size != 256 && size != 384 && size != 521 {
			return nil, fmt.Errorf("%s: ECDSA curve of %d bits is not supported (use P-256, P-384 or P-521)", path, size)
		}
	case familyEd25519:
	default:
		return nil, fmt.Errorf("%s: %T keys are not supported (use RSA, ECDSA or Ed25519)", path, key)
	}
	return key, nil
}

// samePublicKey reports whether a and b are the same public key.
func samePublicKey(a, b crypto.PublicKey) bool {
	switch a := a.(type) {
	case *rsa.PublicKey:
		return a.Equal(b)
	case *ecdsa.PublicKey:
		return a.Equal(b)
	case ed25519.PublicKey:
		return a.Equal(b)
	}
	return false
}

// errNoSigningKey is returned by [Mint] when the configuration has no key
// to sign with.
var errNoSigningKey = errors.New(configKey + ": minting needs secret, secretFile or privateKeyFile")
