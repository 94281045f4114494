package jwtauth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"slices"
	"strings"
)

// family is a kind of key; an algorithm works with keys of one family.
type family int

const (
	familyNone family = iota
	familyHMAC
	familyRSA
	familyECDSA
	familyEd25519
)

// algorithm describes one accepted "alg": the family of its keys and, for
// HMAC, the least secret length in bytes, for ECDSA the curve's size in
// bits.
type algorithm struct {
	family family
	size   int
}

var algorithms = map[string]algorithm{
	"HS256": {familyHMAC, 32},
	"HS384": {familyHMAC, 48},
	"HS512": {familyHMAC, 64},
	"RS256": {familyRSA, 0},
	"RS384": {familyRSA, 0},
	"RS512": {familyRSA, 0},
	"PS256": {familyRSA, 0},
	"PS384": {familyRSA, 0},
	"PS512": {familyRSA, 0},
	"ES256": {familyECDSA, 256},
	"ES384": {familyECDSA, 384},
	"ES512": {familyECDSA, 521},
	"EdDSA": {familyEd25519, 0},
}

// knownAlgorithms lists the keys of algorithms in the order messages name
// them.
var knownAlgorithms = []string{
	"HS256", "HS384", "HS512",
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// jwksAlgorithms are the algorithms accepted with a JWKS when none are
// configured: every asymmetric one.
var jwksAlgorithms = slices.DeleteFunc(slices.Clone(knownAlgorithms), func(a string) bool {
	return algorithms[a].family == familyHMAC
})

// minRSABits is the smallest RSA modulus accepted.
const minRSABits = 2048

// keyFamily reports the family of key and, for ECDSA, its curve's size in
// bits. key is a secret ([]byte), a public key or a private key.
func keyFamily(key any) (family, int) {
	switch k := key.(type) {
	case []byte:
		return familyHMAC, len(k)
	case *rsa.PublicKey:
		return familyRSA, k.N.BitLen()
	case *rsa.PrivateKey:
		return familyRSA, k.N.BitLen()
	case *ecdsa.PublicKey:
		return familyECDSA, k.Curve.Params().BitSize
	case *ecdsa.PrivateKey:
		return familyECDSA, k.Curve.Params().BitSize
	case ed25519.PublicKey, ed25519.PrivateKey:
		return familyEd25519, 0
	}
	return familyNone, 0
}

// fits reports whether alg can be used with key.
func fits(alg string, key any) bool {
	a, ok := algorithms[alg]
	if !ok {
		return false
	}
	f, size := keyFamily(key)
	if f != a.family {
		return false
	}
	switch f {
	case familyHMAC:
		return size >= a.size
	case familyECDSA:
		return size == a.size
	}
	return true
}

// defaultAlgorithm is the algorithm a key is used with when none is
// configured.
func defaultAlgorithm(key any) string {
	f, size := keyFamily(key)
	switch f {
	case familyHMAC:
		return "HS256"
	case familyRSA:
		return "RS256"
	case familyECDSA:
		switch size {
		case 256:
			return "ES256"
		case 384:
			return "ES384"
		case 521:
			return "ES512"
		}
	case familyEd25519:
		return "EdDSA"
	}
	return ""
}

// describeKey names the kind of key for messages, never its value.
func describeKey(key any) string {
	f, size := keyFamily(key)
	switch f {
	case familyHMAC:
		return "an HMAC secret"
	case familyRSA:
		return fmt.Sprintf("an RSA-%d key", size)
	case familyECDSA:
		return fmt.Sprintf("an ECDSA P-%d key", size)
	case familyEd25519:
		return "an Ed25519 key"
	}
	return fmt.Sprintf("a %T", key)
}

// checkAlgorithmNames reports the names in algs that are not algorithms.
func checkAlgorithmNames(algs []string) []error {
	var errs []error
	for _, a := range algs {
		switch {
		case strings.EqualFold(a, "none"):
			errs = append(errs, fmt.Errorf("%s.algorithms: %q is never accepted", configKey, a))
		case algorithms[a] == (algorithm{}):
			errs = append(errs, fmt.Errorf("%s.algorithms: unknown algorithm %q (known: %s)", configKey, a, strings.Join(knownAlgorithms, ", ")))
		}
	}
	return errs
}
