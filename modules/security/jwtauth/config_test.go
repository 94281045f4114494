package jwtauth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/security/jwtauth"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	k := keys()
	rsaPub := publicKeyFile(t, k.rsa)
	p256Pub := publicKeyFile(t, k.p256)
	p256Priv := privateKeyFile(t, k.p256)
	rsaPriv := privateKeyFile(t, k.rsa)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	const jwksURL = "https://issuer.example/.well-known/jwks.json"
	shortSecret := "0123456789"

	tests := []struct {
		name string
		cfg  jwtauth.Config
		want []string // parts of the error; none means valid
	}{
		{"disabled", jwtauth.Config{Issuer: "x"}, nil},
		{"disabled with a bad field", jwtauth.Config{Algorithms: []string{"none"}, Leeway: -1},
			[]string{`security.jwt.algorithms: "none" is never accepted`, "security.jwt.leeway: -1ns is negative"}},
		{"secret", jwtauth.Config{Secret: secret32}, nil},
		{"secret with HS256 and HS384", jwtauth.Config{Secret: secret48, Algorithms: []string{"HS256", "HS384"}}, nil},
		{"public key", jwtauth.Config{PublicKeyFile: rsaPub, Algorithms: []string{"RS256", "PS512"}}, nil},
		{"key pair", jwtauth.Config{PublicKeyFile: p256Pub, PrivateKeyFile: p256Priv}, nil},
		{"JWKS (not fetched)", jwtauth.Config{JWKSURL: jwksURL}, nil},
		{"JWKS and a private key", jwtauth.Config{JWKSURL: jwksURL, PrivateKeyFile: p256Priv}, nil},

		{"none", jwtauth.Config{Secret: secret32, Algorithms: []string{"none"}},
			[]string{`security.jwt.algorithms: "none" is never accepted`}},
		{"None and unknown together", jwtauth.Config{Secret: secret32, Algorithms: []string{"None", "HS999"}},
			[]string{`"None" is never accepted`, `security.jwt.algorithms: unknown algorithm "HS999" (known: HS256,`}},
		{"short secret", jwtauth.Config{Secret: shortSecret},
			[]string{"security.jwt.secret: an HS256 secret must be at least 32 bytes (it has 10)"}},
		{"secret short for HS512", jwtauth.Config{Secret: secret32, Algorithms: []string{"HS512"}},
			[]string{"security.jwt.secret: an HS512 secret must be at least 64 bytes (it has 32)"}},
		{"secret and secretFile", jwtauth.Config{Secret: secret32, SecretFile: "x"},
			[]string{"security.jwt.secretFile: set either secret or secretFile, not both"}},
		{"secret and publicKeyFile", jwtauth.Config{Secret: secret32, PublicKeyFile: rsaPub},
			[]string{"security.jwt.publicKeyFile: set either a secret or publicKeyFile, not both"}},
		{"secret and jwksURL", jwtauth.Config{Secret: secret32, JWKSURL: jwksURL},
			[]string{"security.jwt.jwksURL: set either a secret or jwksURL, not both"}},
		{"secret and privateKeyFile", jwtauth.Config{Secret: secret32, PrivateKeyFile: rsaPriv},
			[]string{"security.jwt.privateKeyFile: set either a secret or privateKeyFile"}},
		{"publicKeyFile and jwksURL", jwtauth.Config{PublicKeyFile: rsaPub, JWKSURL: jwksURL},
			[]string{"security.jwt.jwksURL: set either publicKeyFile or jwksURL, not both"}},
		{"unreadable secretFile", jwtauth.Config{SecretFile: missing},
			[]string{"security.jwt.secretFile: open " + missing + ": no such file or directory"}},
		{"empty secretFile", jwtauth.Config{SecretFile: writeFile(t, "empty", []byte("\n"))},
			[]string{"security.jwt.secretFile: ", "is empty"}},
		{"PEM in secretFile", jwtauth.Config{SecretFile: rsaPub},
			[]string{"security.jwt.secretFile: holds a PEM block, not an HMAC secret"}},
		{"unreadable publicKeyFile", jwtauth.Config{PublicKeyFile: missing},
			[]string{"security.jwt.publicKeyFile: open " + missing + ": no such file or directory"}},
		{"publicKeyFile not PEM", jwtauth.Config{PublicKeyFile: writeFile(t, "junk.pem", []byte("hello"))},
			[]string{"security.jwt.publicKeyFile: ", "junk.pem holds no PEM block"}},
		{"private key in publicKeyFile", jwtauth.Config{PublicKeyFile: rsaPriv},
			[]string{"security.jwt.publicKeyFile: ", "holds a private key; name it in privateKeyFile"}},
		{"RSA key too short", jwtauth.Config{PublicKeyFile: publicKeyFile(t, small)},
			[]string{"security.jwt.publicKeyFile: ", "an RSA key must have at least 2048 bits (it has 1024)"}},
		{"ES256 with an RSA key", jwtauth.Config{PublicKeyFile: rsaPub, Algorithms: []string{"ES256"}},
			[]string{"security.jwt.algorithms: ES256 does not fit an RSA-2048 key (publicKeyFile " + rsaPub + ")"}},
		{"ES384 with a P-256 key", jwtauth.Config{PublicKeyFile: p256Pub, Algorithms: []string{"ES384"}},
			[]string{"security.jwt.algorithms: ES384 does not fit an ECDSA P-256 key"}},
		{"HS256 with a public key", jwtauth.Config{PublicKeyFile: rsaPub, Algorithms: []string{"RS256", "HS256"}},
			[]string{"security.jwt.algorithms: HS256 does not fit an RSA-2048 key"}},
		{"RS256 with a secret", jwtauth.Config{Secret: secret32, Algorithms: []string{"RS256"}},
			[]string{"security.jwt.algorithms: RS256 does not fit an HMAC secret (secret)"}},
		{"HS256 with jwksURL", jwtauth.Config{JWKSURL: jwksURL, Algorithms: []string{"HS256"}},
			[]string{"security.jwt.algorithms: HS256 cannot be used with jwksURL"}},
		{"jwksURL not http", jwtauth.Config{JWKSURL: "ftp://issuer.example/jwks"},
			[]string{"security.jwt.jwksURL: ftp://issuer.example/jwks is not an http or https URL"}},
		{"jwksURL without host", jwtauth.Config{JWKSURL: "https:///jwks"},
			[]string{"security.jwt.jwksURL: ", "names no host"}},
		{"jwksRefresh too short", jwtauth.Config{JWKSURL: jwksURL, JWKSRefresh: 10 * time.Millisecond},
			[]string{"security.jwt.jwksRefresh: 10ms is below the minimum of 1s"}},
		{"negative leeway", jwtauth.Config{Secret: secret32, Leeway: -time.Second},
			[]string{"security.jwt.leeway: -1s is negative"}},
		{"negative maxTokenBytes", jwtauth.Config{Secret: secret32, MaxTokenBytes: -1},
			[]string{"security.jwt.maxTokenBytes: -1 is negative"}},
		{"mismatched key pair", jwtauth.Config{PublicKeyFile: rsaPub, PrivateKeyFile: p256Priv},
			[]string{"security.jwt.privateKeyFile: the key does not match publicKeyFile"}},
		{"unreadable privateKeyFile", jwtauth.Config{PrivateKeyFile: missing},
			[]string{"security.jwt.privateKeyFile: open " + missing}},
		{"encrypted private key", jwtauth.Config{PrivateKeyFile: writeFile(t, "enc.pem", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}))},
			[]string{"security.jwt.privateKeyFile: ", "encrypted private keys are not supported"}},
		{"private key fitting no algorithm", jwtauth.Config{JWKSURL: jwksURL, PrivateKeyFile: p256Priv, Algorithms: []string{"RS256"}},
			[]string{"security.jwt.privateKeyFile: an ECDSA P-256 key fits none of the accepted algorithms (RS256)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", tt.cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, secret := range []string{secret32, secret48, shortSecret} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds the secret", err)
				}
			}
			// NewVerifier and Mint refuse the same configurations.
			if v, verr := jwtauth.NewVerifier(t.Context(), tt.cfg); verr == nil {
				v.Close()
				t.Error("NewVerifier accepted an invalid configuration")
			}
			if _, merr := jwtauth.Mint(tt.cfg, jwtauth.MintClaims{Subject: "x"}); merr == nil {
				t.Error("Mint accepted an invalid configuration")
			}
		})
	}
}

func TestEnabled(t *testing.T) {
	t.Parallel()
	if (jwtauth.Config{Issuer: "x", Audience: "y", Algorithms: []string{"RS256"}}).Enabled() {
		t.Error("a configuration without a key is enabled")
	}
	for _, c := range []jwtauth.Config{
		{Secret: "s"}, {SecretFile: "f"}, {PublicKeyFile: "p"}, {PrivateKeyFile: "k"}, {JWKSURL: "https://x"},
	} {
		if !c.Enabled() {
			t.Errorf("%+v is not enabled", c)
		}
	}
	_, err := jwtauth.NewVerifier(t.Context(), jwtauth.Config{})
	if err == nil || !strings.Contains(err.Error(), "security.jwt: no key configured") {
		t.Errorf("NewVerifier of a disabled configuration: %v", err)
	}
}
