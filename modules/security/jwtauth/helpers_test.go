package jwtauth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan/modules/security/jwtauth"
)

// testKeys are generated once: RSA generation is slow under -race.
type testKeys struct {
	rsa, rsa2 *rsa.PrivateKey
	p256      *ecdsa.PrivateKey
	p384      *ecdsa.PrivateKey
	p521      *ecdsa.PrivateKey
	ed        ed25519.PrivateKey
}

var keys = sync.OnceValue(func() testKeys {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	var k testKeys
	var err error
	k.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	k.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	k.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	must(err)
	_, k.ed, err = ed25519.GenerateKey(rand.Reader)
	must(err)
	return k
})

// secret32, secret48 and secret64 are HMAC secrets of the least length of
// HS256, HS384 and HS512.
var (
	secret32 = strings.Repeat("s", 32)
	secret48 = strings.Repeat("t", 48)
	secret64 = strings.Repeat("u", 64)
)

// writeFile writes data to name in a temporary directory of t and returns
// its path.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// publicPEM encodes the public half of key as a PKIX "PUBLIC KEY" block.
func publicPEM(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// privatePEM encodes key as a PKCS #8 "PRIVATE KEY" block.
func privatePEM(t testing.TB, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// publicKeyFile writes the public half of key to a PEM file.
func publicKeyFile(t testing.TB, key crypto.Signer) string {
	return writeFile(t, "public.pem", publicPEM(t, key))
}

// privateKeyFile writes key to a PEM file.
func privateKeyFile(t testing.TB, key crypto.Signer) string {
	return writeFile(t, "private.pem", privatePEM(t, key))
}

// sign makes a token with the JWT library directly, header fields added.
func sign(t testing.TB, alg string, key any, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validClaims are claims valid for an hour.
func validClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"sub":   "alice",
		"roles": []string{"admin"},
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	}
}

// newVerifier builds a verifier that t closes.
func newVerifier(t testing.TB, c jwtauth.Config) *jwtauth.Verifier {
	t.Helper()
	v, err := jwtauth.NewVerifier(t.Context(), c)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

// refused asserts that err is an *jwtauth.Error with reason want and that
// its message does not hold token.
func refused(t testing.TB, token string, err error, want jwtauth.Reason) *jwtauth.Error {
	t.Helper()
	var e *jwtauth.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *jwtauth.Error", err, err)
	}
	if e.Reason != want {
		t.Fatalf("reason %q (%s), want %q", e.Reason, e.Message, want)
	}
	noToken(t, token, e.Message)
	return e
}

// noToken fails when msg holds token, or its signature or payload part.
func noToken(t testing.TB, token, msg string) {
	t.Helper()
	if token == "" {
		return
	}
	parts := []string{token}
	for _, p := range strings.Split(token, ".") {
		if len(p) >= 16 {
			parts = append(parts, p)
		}
	}
	for _, p := range parts {
		if strings.Contains(msg, p) {
			t.Fatalf("message holds the token: %s", msg)
		}
	}
}

// jwk is one key of a JSON Web Key Set, written by hand so the tests do not
// trust the library that reads it.
func jwk(t testing.TB, kid, alg string, pub crypto.PublicKey) map[string]any {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kid": kid, "use": "sig"}
	if alg != "" {
		m["alg"] = alg
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64(k.N.Bytes())
		m["e"] = b64(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		point, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		size := (len(point) - 1) / 2
		m["kty"] = "EC"
		m["crv"] = k.Curve.Params().Name
		m["x"] = b64(point[1 : 1+size])
		m["y"] = b64(point[1+size:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64(k)
	case []byte:
		m["kty"] = "oct"
		m["k"] = b64(k)
	default:
		t.Fatalf("jwk: %T", pub)
	}
	return m
}

// jwks encodes keys as a JSON Web Key Set.
func jwks(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
