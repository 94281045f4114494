package jwtauth_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan/modules/security/jwtauth"
)

func TestVerifyAcceptsEveryAlgorithmFamily(t *testing.T) {
	t.Parallel()
	k := keys()
	tests := []struct {
		alg  string
		cfg  func(t *testing.T) jwtauth.Config
		sign any
	}{
		{"HS256", func(*testing.T) jwtauth.Config { return jwtauth.Config{Secret: secret32} }, []byte(secret32)},
		{"HS384", func(*testing.T) jwtauth.Config {
			return jwtauth.Config{Secret: secret48, Algorithms: []string{"HS384"}}
		}, []byte(secret48)},
		{"HS512", func(*testing.T) jwtauth.Config {
			return jwtauth.Config{Secret: secret64, Algorithms: []string{"HS512"}}
		}, []byte(secret64)},
		{"RS256", func(t *testing.T) jwtauth.Config { return jwtauth.Config{PublicKeyFile: publicKeyFile(t, k.rsa)} }, k.rsa},
		{"RS512", func(t *testing.T) jwtauth.Config {
			return jwtauth.Config{PublicKeyFile: publicKeyFile(t, k.rsa), Algorithms: []string{"RS256", "RS512"}}
		}, k.rsa},
		{"PS256", func(t *testing.T) jwtauth.Config {
			return jwtauth.Config{PublicKeyFile: publicKeyFile(t, k.rsa), Algorithms: []string{"PS256"}}
		}, k.rsa},
		{"ES256", func(t *testing.T) jwtauth.Config { return jwtauth.Config{PublicKeyFile: publicKeyFile(t, k.p256)} }, k.p256},
		{"ES384", func(t *testing.T) jwtauth.Config { return jwtauth.Config{PublicKeyFile: publicKeyFile(t, k.p384)} }, k.p384},
		{"ES512", func(t *testing.T) jwtauth.Config { return jwtauth.Config{PublicKeyFile: publicKeyFile(t, k.p521)} }, k.p521},
		{"EdDSA", func(t *testing.T) jwtauth.Config { return jwtauth.Config{PublicKeyFile: publicKeyFile(t, k.ed)} }, k.ed},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, tt.cfg(t))
			token := sign(t, tt.alg, tt.sign, validClaims(), nil)
			c, err := v.Verify(token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != "alice" || !slices.Equal(c.Roles, []string{"admin"}) {
				t.Fatalf("claims %+v", c)
			}
			if c.ExpiresAt.IsZero() || c.Raw["sub"] != "alice" {
				t.Fatalf("claims %+v", c)
			}
		})
	}
}

func TestVerifyReadsCertificatesAndPKCS1(t *testing.T) {
	t.Parallel()
	k := keys()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "issuer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.p256.Public(), k.p256)
	if err != nil {
		t.Fatal(err)
	}
	cert := writeFile(t, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	if _, err := newVerifier(t, jwtauth.Config{PublicKeyFile: cert}).Verify(sign(t, "ES256", k.p256, validClaims(), nil)); err != nil {
		t.Fatalf("certificate: %v", err)
	}
	pkcs1 := writeFile(t, "rsa.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))
	if _, err := newVerifier(t, jwtauth.Config{PublicKeyFile: pkcs1}).Verify(sign(t, "RS256", k.rsa, validClaims(), nil)); err != nil {
		t.Fatalf("PKCS #1: %v", err)
	}
	// A private key alone verifies with its public half.
	priv := privateKeyFile(t, k.ed)
	if _, err := newVerifier(t, jwtauth.Config{PrivateKeyFile: priv}).Verify(sign(t, "EdDSA", k.ed, validClaims(), nil)); err != nil {
		t.Fatalf("private key: %v", err)
	}
}

// with returns validClaims changed by f.
func with(f func(jwt.MapClaims)) jwt.MapClaims {
	c := validClaims()
	f(c)
	return c
}

// rawToken assembles a token from a header and a payload, JSON as given,
// and a signature.
func rawToken(header, payload, sig string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + sig
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	k := keys()
	hs := jwtauth.Config{Secret: secret32, Issuer: "https://issuer.example", Audience: "orders"}
	good := func(c jwt.MapClaims) jwt.MapClaims {
		c["iss"] = "https://issuer.example"
		c["aud"] = "orders"
		return c
	}
	secret := []byte(secret32)
	now := time.Now()
	valid := sign(t, "HS256", secret, good(validClaims()), nil)
	rsaPEM := publicPEM(t, k.rsa)
	rsaFile := writeFile(t, "rsa.pem", rsaPEM)

	tests := []struct {
		name   string
		cfg    jwtauth.Config
		token  string
		reason jwtauth.Reason
		msg    string // part of the message
		cause  error  // in the chain when set
	}{
		{"expired", hs, sign(t, "HS256", secret, good(with(func(c jwt.MapClaims) {
			c["exp"] = time.Date(2025, 12, 4, 5, 0, 0, 0, time.UTC).Unix()
		})), nil), jwtauth.ReasonExpired, "token expired at 2025-12-04T05:00:00Z (30s leeway)", jwt.ErrTokenExpired},
		{"expired beyond a configured leeway", jwtauth.Config{Secret: secret32, Leeway: 5 * time.Second}, sign(t, "HS256", secret, with(func(c jwt.MapClaims) {
			c["exp"] = now.Add(-10 * time.Second).Unix()
		}), nil), jwtauth.ReasonExpired, "(5s leeway)", jwt.ErrTokenExpired},
		{"not yet valid", hs, sign(t, "HS256", secret, good(with(func(c jwt.MapClaims) {
			c["nbf"] = now.Add(time.Hour).Unix()
		})), nil), jwtauth.ReasonNotYetValid, "token is not valid before", jwt.ErrTokenNotValidYet},
		{"issued in the future", hs, sign(t, "HS256", secret, good(with(func(c jwt.MapClaims) {
			c["iat"] = now.Add(time.Hour).Unix()
		})), nil), jwtauth.ReasonNotYetValid, "in the future", jwt.ErrTokenUsedBeforeIssued},
		{"wrong issuer", hs, sign(t, "HS256", secret, with(func(c jwt.MapClaims) {
			c["iss"] = "https://evil.example"
			c["aud"] = "orders"
		}), nil), jwtauth.ReasonBadIssuer, `token issuer "https://evil.example" is not "https://issuer.example"`, jwt.ErrTokenInvalidIssuer},
		{"no issuer", hs, sign(t, "HS256", secret, with(func(c jwt.MapClaims) {
			c["aud"] = "orders"
		}), nil), jwtauth.ReasonBadIssuer, "token has no issuer", jwt.ErrTokenRequiredClaimMissing},
		{"wrong audience", hs, sign(t, "HS256", secret, with(func(c jwt.MapClaims) {
			c["iss"] = "https://issuer.example"
			c["aud"] = []string{"billing", "admin"}
		}), nil), jwtauth.ReasonBadAudience, `token audience ["billing" "admin"] does not include "orders"`, jwt.ErrTokenInvalidAudience},
		{"no audience", hs, sign(t, "HS256", secret, with(func(c jwt.MapClaims) {
			c["iss"] = "https://issuer.example"
		}), nil), jwtauth.ReasonBadAudience, "token has no audience", nil},
		{"bad signature", hs, sign(t, "HS256", []byte(strings.Repeat("x", 32)), good(validClaims()), nil),
			jwtauth.ReasonBadSignature, "token signature does not verify", jwt.ErrTokenSignatureInvalid},
		{"tampered payload", hs, func() string {
			parts := strings.Split(valid, ".")
			other := strings.Split(sign(t, "HS256", secret, good(with(func(c jwt.MapClaims) { c["roles"] = []string{"root"} })), nil), ".")
			return parts[0] + "." + other[1] + "." + parts[2]
		}(), jwtauth.ReasonBadSignature, "", nil},
		{"RSA bad signature", jwtauth.Config{PublicKeyFile: rsaFile}, sign(t, "RS256", k.rsa2, validClaims(), nil),
			jwtauth.ReasonBadSignature, "", jwt.ErrTokenSignatureInvalid},
		{"alg none", hs, sign(t, "none", jwt.UnsafeAllowNoneSignatureType, good(validClaims()), nil),
			jwtauth.ReasonAlgorithm, `token algorithm "none" is not accepted (accepted: HS256)`, nil},
		{"alg NONE by hand", hs, rawToken(`{"alg":"NONE","typ":"JWT"}`, `{"sub":"alice"}`, ""),
			jwtauth.ReasonAlgorithm, `"NONE" is not accepted`, nil},
		{"no alg", hs, rawToken(`{"typ":"JWT"}`, `{"sub":"alice"}`, "c2ln"),
			jwtauth.ReasonAlgorithm, "token header names no algorithm (accepted: HS256)", nil},
		{"unknown alg", hs, rawToken(`{"alg":"XS999"}`, `{"sub":"alice"}`, "c2ln"),
			jwtauth.ReasonAlgorithm, `"XS999" is not accepted`, nil},
		{"HS256 signed with the RSA public key PEM", jwtauth.Config{PublicKeyFile: rsaFile}, sign(t, "HS256", rsaPEM, validClaims(), nil),
			jwtauth.ReasonAlgorithm, `token algorithm "HS256" is not accepted (accepted: RS256)`, nil},
		{"algorithm not pinned", hs, sign(t, "HS512", []byte(secret64), good(validClaims()), nil),
			jwtauth.ReasonAlgorithm, `"HS512" is not accepted (accepted: HS256)`, nil},
		{"PS256 against RS256 with the same key", jwtauth.Config{PublicKeyFile: rsaFile}, sign(t, "PS256", k.rsa, validClaims(), nil),
			jwtauth.ReasonAlgorithm, `"PS256" is not accepted (accepted: RS256)`, nil},
		{"ES256 against RS256", jwtauth.Config{PublicKeyFile: rsaFile}, sign(t, "ES256", k.p256, validClaims(), nil),
			jwtauth.ReasonAlgorithm, "", nil},
		{"no expiry when required", jwtauth.Config{Secret: secret32, RequireExpiry: true}, sign(t, "HS256", secret, with(func(c jwt.MapClaims) {
			delete(c, "exp")
		}), nil), jwtauth.ReasonNoExpiry, "requireExpiry", jwt.ErrTokenRequiredClaimMissing},
		{"exp of the wrong type", hs, sign(t, "HS256", secret, good(with(func(c jwt.MapClaims) {
			c["exp"] = "tomorrow"
		})), nil), jwtauth.ReasonMalformed, "wrong type", jwt.ErrInvalidType},
		{"roles of the wrong type", hs, sign(t, "HS256", secret, good(with(func(c jwt.MapClaims) {
			c["roles"] = []any{"admin", 7}
		})), nil), jwtauth.ReasonMalformed, `token claim "roles" is neither a string nor an array of strings`, nil},
		{"critical extension", hs, sign(t, "HS256", secret, good(validClaims()), map[string]any{"crit": []string{"b64"}, "b64": false}),
			jwtauth.ReasonMalformed, "critical extensions (crit)", nil},
		{"empty", hs, "", jwtauth.ReasonMalformed, "token is empty", nil},
		{"garbage", hs, "this is not a token at all, just words", jwtauth.ReasonMalformed, "", jwt.ErrTokenMalformed},
		{"two segments", hs, strings.Join(strings.Split(valid, ".")[:2], "."), jwtauth.ReasonMalformed, "segments", jwt.ErrTokenMalformed},
		{"four segments", hs, valid + ".AAAA", jwtauth.ReasonMalformed, "segments", jwt.ErrTokenMalformed},
		{"truncated", hs, valid[:len(valid)/2], jwtauth.ReasonMalformed, "", jwt.ErrTokenMalformed},
		{"truncated signature", hs, valid[:len(valid)-3], jwtauth.ReasonBadSignature, "", nil},
		{"header not base64", hs, "!!!!" + valid[strings.Index(valid, "."):], jwtauth.ReasonMalformed, "base64", jwt.ErrTokenMalformed},
		{"header not an object", hs, rawToken(`[]`, `{}`, ""), jwtauth.ReasonMalformed, "", jwt.ErrTokenMalformed},
		{"payload not JSON", hs, rawToken(`{"alg":"HS256"}`, `{"sub":`, ""), jwtauth.ReasonMalformed, "", jwt.ErrTokenMalformed},
		{"huge", hs, valid + strings.Repeat("A", 16<<10), jwtauth.ReasonTooLarge, "more than the 16384 accepted (security.jwt.maxTokenBytes)", nil},
		{"over a configured cap", jwtauth.Config{Secret: secret32, MaxTokenBytes: 64}, valid, jwtauth.ReasonTooLarge, "more than the 64 accepted", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newVerifier(t, tt.cfg)
			c, err := v.Verify(tt.token)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			e := refused(t, tt.token, err, tt.reason)
			t.Logf("%s: %s", e.Reason, e.Message)
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q lacks %q", e.Message, tt.msg)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("error %v does not wrap %v", err, tt.cause)
			}
			if jwtauth.ReasonOf(err) != tt.reason || e.Error() != e.Message {
				t.Errorf("ReasonOf %q, Error %q", jwtauth.ReasonOf(err), e.Error())
			}
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, jwtauth.Config{Secret: secret32})
	now := time.Now()
	for name, claims := range map[string]jwt.MapClaims{
		"expired 10s ago":     with(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }),
		"valid in 10s":        with(func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Second).Unix() }),
		"issued 10s from now": with(func(c jwt.MapClaims) { c["iat"] = now.Add(10 * time.Second).Unix() }),
		"no exp":              with(func(c jwt.MapClaims) { delete(c, "exp") }),
	} {
		if _, err := v.Verify(sign(t, "HS256", []byte(secret32), claims, nil)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestVerifyClaims(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, jwtauth.Config{Secret: secret32, Audience: "orders"})
	now := time.Now().Truncate(time.Second)
	token := sign(t, "HS256", []byte(secret32), jwt.MapClaims{
		"sub":   "bob",
		"iss":   "me",
		"aud":   []string{"billing", "orders"},
		"exp":   now.Add(time.Hour).Unix(),
		"nbf":   now.Add(-time.Minute).Unix(),
		"jti":   "id-1",
		"roles": "admin  ops",
		"scope": "orders:read orders:write",
		"tier":  "gold",
	}, nil)
	c, err := v.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "bob" || c.Issuer != "me" || c.ID != "id-1" || c.Raw["tier"] != "gold" {
		t.Errorf("claims %+v", c)
	}
	if !slices.Equal(c.Audience, []string{"billing", "orders"}) {
		t.Errorf("audience %q", c.Audience)
	}
	if !slices.Equal(c.Roles, []string{"admin", "ops"}) {
		t.Errorf("roles %q", c.Roles)
	}
	if !slices.Equal(c.Permissions, []string{"orders:read", "orders:write"}) {
		t.Errorf("permissions from scope %q", c.Permissions)
	}
	if !c.ExpiresAt.Equal(now.Add(time.Hour)) || !c.NotBefore.Equal(now.Add(-time.Minute)) {
		t.Errorf("exp %v nbf %v", c.ExpiresAt, c.NotBefore)
	}

	// Configured claim names, a dotted one reaching into an object.
	v = newVerifier(t, jwtauth.Config{Secret: secret32, RolesClaim: "realm_access.roles", PermissionsClaim: "perms"})
	c, err = v.Verify(sign(t, "HS256", []byte(secret32), jwt.MapClaims{
		"realm_access": map[string]any{"roles": []string{"auditor"}},
		"perms":        []string{"read"},
		"scope":        "ignored",
	}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Roles, []string{"auditor"}) || !slices.Equal(c.Permissions, []string{"read"}) {
		t.Errorf("roles %q permissions %q", c.Roles, c.Permissions)
	}
	if c.ExpiresAt != (time.Time{}) {
		t.Errorf("exp %v for a token without exp", c.ExpiresAt)
	}
}

func TestVerifierAlgorithms(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, jwtauth.Config{PublicKeyFile: publicKeyFile(t, keys().p384)})
	if got := v.Algorithms(); !slices.Equal(got, []string{"ES384"}) {
		t.Errorf("algorithms %q, want [ES384]", got)
	}
}
