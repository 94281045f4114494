package jwtauth

import (
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are what a verified token says about its bearer.
type Claims struct {
	// Subject is the sub claim: who the token is for.
	Subject string
	// Roles are read from security.jwt.rolesClaim (default "roles").
	Roles []string
	// Permissions are read from security.jwt.permissionsClaim (default
	// "permissions"), or from scope when the token lacks that claim.
	Permissions []string
	// Issuer is the iss claim.
	Issuer string
	// Audience is the aud claim, a single string made a list of one.
	Audience []string
	// ExpiresAt is the exp claim; zero when the token has none.
	ExpiresAt time.Time
	// NotBefore is the nbf claim; zero when the token has none.
	NotBefore time.Time
	// ID is the jti claim.
	ID string
	// Raw holds every claim as decoded from JSON (numbers are float64).
	Raw map[string]any
}

// scopeClaim is read for permissions when the configured claim is absent.
const scopeClaim = "scope"

// newClaims extracts the claims of a verified token.
func (v *Verifier) newClaims(m jwt.MapClaims) (*Claims, error) {
	c := &Claims{Raw: m}
	c.Subject, _ = m["sub"].(string)
	c.Issuer, _ = m["iss"].(string)
	c.ID, _ = m["jti"].(string)
	if aud, err := m.GetAudience(); err == nil {
		c.Audience = aud
	}
	if exp, err := m.GetExpirationTime(); err == nil && exp != nil {
		c.ExpiresAt = exp.Time
	}
	if nbf, err := m.GetNotBefore(); err == nil && nbf != nil {
		c.NotBefore = nbf.Time
	}
	var ok bool
	if c.Roles, ok = stringList(lookup(m, v.cfg.RolesClaim)); !ok {
		return nil, refuse(ReasonMalformed, nil, "token claim %q is neither a string nor an array of strings", v.cfg.RolesClaim)
	}
	name := v.cfg.PermissionsClaim
	perms := lookup(m, name)
	if perms == nil {
		name = scopeClaim
		perms = m[scopeClaim]
	}
	if c.Permissions, ok = stringList(perms); !ok {
		return nil, refuse(ReasonMalformed, nil, "token claim %q is neither a string nor an array of strings", name)
	}
	return c, nil
}

// lookup returns the claim called name; a dotted name that is not a claim
// of its own reaches into objects ("realm_access.roles").
func lookup(m map[string]any, name string) any {
	for {
		if v, ok := m[name]; ok {
			return v
		}
		head, rest, ok := strings.Cut(name, ".")
		if !ok {
			return nil
		}
		inner, ok := m[head].(map[string]any)
		if !ok {
			return nil
		}
		m, name = inner, rest
	}
}

// stringList reads a list of strings from a JSON array of strings or one
// space-separated string; nil reads as no strings. ok is false for any
// other value.
func stringList(v any) (list []string, ok bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		return strings.Fields(v), true
	case []any:
		list = make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			list = append(list, s)
		}
		return list, true
	}
	return nil, false
}
