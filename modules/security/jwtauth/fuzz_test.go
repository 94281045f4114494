package jwtauth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan/modules/security/jwtauth"
)

var reasons = []jwtauth.Reason{
	jwtauth.ReasonExpired, jwtauth.ReasonNotYetValid, jwtauth.ReasonNoExpiry,
	jwtauth.ReasonBadIssuer, jwtauth.ReasonBadAudience, jwtauth.ReasonBadSignature,
	jwtauth.ReasonAlgorithm, jwtauth.ReasonMalformed, jwtauth.ReasonTooLarge,
	jwtauth.ReasonUnknownKey,
}

// FuzzVerify feeds Verify outside bytes: it must never panic, and every
// refusal must be an *Error with a known reason whose message does not hold
// the token.
func FuzzVerify(f *testing.F) {
	k := keys()
	hs := newVerifier(f, jwtauth.Config{Secret: secret32, Issuer: "iss", Audience: "aud", RolesClaim: "a.b"})
	es := newVerifier(f, jwtauth.Config{PublicKeyFile: publicKeyFile(f, k.p256), MaxTokenBytes: 4096})

	good := jwt.MapClaims{"sub": "alice", "iss": "iss", "aud": "aud", "exp": time.Now().Add(time.Hour).Unix(), "roles": "admin"}
	valid := sign(f, "HS256", []byte(secret32), good, nil)
	for _, seed := range []string{
		valid,
		sign(f, "ES256", k.p256, good, nil),
		sign(f, "HS256", []byte(secret32), jwt.MapClaims{"exp": "x", "nbf": 1e300, "iat": -1e300, "aud": []any{1}, "a": map[string]any{"b": []any{nil}}}, nil),
		sign(f, "none", jwt.UnsafeAllowNoneSignatureType, good, nil),
		sign(f, "HS512", []byte(secret64), good, map[string]any{"kid": strings.Repeat("k", 100)}),
		valid[:len(valid)/2],
		valid + ".",
		rawToken(`{"alg":"HS256"}`, `{"exp":1e999}`, ""),
		rawToken(`{"alg":["HS256"]}`, `{}`, ""),
		rawToken(`{"alg":"HS256","crit":["exp"]}`, `null`, ""),
		"",
		".",
		"..",
		"a.b.c",
		"\x00\xff.\x80.\xfe",
		strings.Repeat("A", 17<<10),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		for _, v := range []*jwtauth.Verifier{hs, es} {
			c, err := v.Verify(token)
			if err == nil {
				if c == nil || c.Raw == nil {
					t.Fatalf("accepted without claims: %+v", c)
				}
				continue
			}
			if c != nil {
				t.Fatalf("claims %+v with error %v", c, err)
			}
			r := jwtauth.ReasonOf(err)
			if !slices.Contains(reasons, r) {
				t.Fatalf("reason %q (%v) is not a known reason", r, err)
			}
			if len(token) >= 16 && strings.Contains(err.Error(), token) {
				t.Fatalf("message holds the token: %v", err)
			}
		}
	})
}
