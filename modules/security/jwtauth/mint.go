package jwtauth

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MintClaims are the claims of a token [Mint] makes.
type MintClaims struct {
	// Subject is the sub claim.
	Subject string
	// Roles and Permissions go in the claims named by the configuration's
	// rolesClaim and permissionsClaim, as arrays; nil leaves them out.
	Roles, Permissions []string
	// TTL sets exp to now + TTL. Zero leaves exp out; a negative TTL makes
	// a token that has already expired, for tests.
	TTL time.Duration
	// Issuer and Audience set iss and aud; empty, the configuration's
	// issuer and audience are used.
	Issuer, Audience string
	// Extra holds further claims. A claim that another field sets is that
	// field's; iat (default now) and jti (default random) may be set here.
	Extra map[string]any
}

// Mint makes a signed token, for tests and tools (`titan token`). It signs
// with the secret of c (secret or secretFile) or with its privateKeyFile,
// using the first accepted algorithm that fits the key; c must be valid
// (see [Config.Validate]).
func Mint(c Config, mc MintClaims) (string, error) {
	ks, err := c.load()
	if err != nil {
		return "", err
	}
	if ks.sign == nil {
		return "", errNoSigningKey
	}
	c = c.withDefaults()
	now := time.Now()
	claims := jwt.MapClaims{"iat": jwt.NewNumericDate(now)}
	jti, err := randomString(16)
	if err != nil {
		return "", err
	}
	claims["jti"] = jti
	maps.Copy(claims, mc.Extra)
	if mc.Subject != "" {
		claims["sub"] = mc.Subject
	}
	if iss := cmp.Or(mc.Issuer, c.Issuer); iss != "" {
		claims["iss"] = iss
	}
	if aud := cmp.Or(mc.Audience, c.Audience); aud != "" {
		claims["aud"] = aud
	}
	if mc.TTL != 0 {
		claims["exp"] = jwt.NewNumericDate(now.Add(mc.TTL))
	}
	if mc.Roles != nil {
		setClaim(claims, c.RolesClaim, mc.Roles)
	}
	if mc.Permissions != nil {
		setClaim(claims, c.PermissionsClaim, mc.Permissions)
	}
	token, err := jwt.NewWithClaims(jwt.GetSigningMethod(ks.signAlg), claims).SignedString(ks.sign)
	if err != nil {
		return "", fmt.Errorf("%s: signing a %s token: %w", configKey, ks.signAlg, err)
	}
	return token, nil
}

// setClaim sets the claim called name; a dotted name makes objects
// ("realm_access.roles"), copying those it passes through so that maps of
// the caller are left alone.
func setClaim(m map[string]any, name string, value any) {
	for {
		head, rest, ok := strings.Cut(name, ".")
		if !ok {
			m[name] = value
			return
		}
		inner, _ := m[head].(map[string]any)
		inner = maps.Clone(inner)
		if inner == nil {
			inner = map[string]any{}
		}
		m[head] = inner
		m, name = inner, rest
	}
}

// GenerateSecret returns a new HMAC secret: 32 random bytes, base64url
// encoded without padding (43 characters, used as they are).
func GenerateSecret() (string, error) { return randomString(32) }

// randomString returns n random bytes, base64url encoded without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("jwtauth: reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
