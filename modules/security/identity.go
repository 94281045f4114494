package security

import (
	"context"
	"crypto/x509"
	"slices"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Identity is who a caller proved to be: by a token (JWT), by the app's
// [Authenticator], or by its TLS client certificate.
type Identity struct {
	// Subject is the caller's id (the token's "sub", the authenticator's
	// user id, the certificate's subject or SAN).
	Subject string
	// Roles are the caller's roles as granted; HasRole also follows the
	// inheritance of security.rbac.roles.
	Roles []string
	// Permissions are what the caller may do: those granted to it directly
	// and those of its roles (security.rbac.roles), expanded.
	Permissions []string
	// Claims are every claim of the caller's token (nil without one).
	Claims map[string]any
	// Certificate is the caller's TLS client certificate, when it
	// presented one that the handshake verified (security.tls.mtls); a
	// certificate a listener took without verifying it is not kept.
	Certificate *x509.Certificate
	// ExpiresAt is when the identity stops being valid (the token's exp);
	// zero means it does not expire. Every call after it is refused, even
	// on the connection that authenticated.
	ExpiresAt time.Time
	// Metadata is what an Authenticator adds (sent in the AuthResult's
	// context.metadata).
	Metadata map[string]any

	roles  map[string]bool // Roles with the roles they inherit
	leeway time.Duration   // past ExpiresAt still valid: a token's, security.jwt.leeway
}

// HasRole reports whether the caller has role, directly or by inheritance.
func (id *Identity) HasRole(role string) bool {
	if id.roles != nil {
		return id.roles[role]
	}
	return slices.Contains(id.Roles, role)
}

// Can reports whether the caller has permission: granted exactly, or by a
// wildcard ("calculator:*", "*:read", "*").
func (id *Identity) Can(permission string) bool {
	for _, p := range id.Permissions {
		if matchPermission(p, permission) {
			return true
		}
	}
	return false
}

// withCertificate returns a copy of id with the caller's certificate
// (identities of verified tokens are shared by the requests that bring
// the token, and never modified).
func (id *Identity) withCertificate(c *x509.Certificate) *Identity {
	cp := *id
	cp.Certificate = c
	return &cp
}

// expired reports whether the identity is no longer valid at now: past
// ExpiresAt, beyond the leeway its token was verified with.
func (id *Identity) expired(now time.Time) bool {
	return !id.ExpiresAt.IsZero() && now.After(id.ExpiresAt.Add(id.leeway))
}

// authContext is the identity as the AuthResult's context object
// (NETRON-WIRE.md §6.5): {userId, roles, permissions, metadata?}.
func (id *Identity) authContext() protocol.Object {
	roles := make([]any, len(id.Roles))
	for i, r := range id.Roles {
		roles[i] = r
	}
	perms := make([]any, len(id.Permissions))
	for i, p := range id.Permissions {
		perms[i] = p
	}
	o := protocol.Object{{Key: "userId", Value: id.Subject}, {Key: "roles", Value: roles}, {Key: "permissions", Value: perms}}
	if len(id.Metadata) > 0 {
		md := protocol.Object{}
		for _, k := range sortedKeys(id.Metadata) {
			md = append(md, protocol.Field{Key: k, Value: id.Metadata[k]})
		}
		o = append(o, protocol.Field{Key: "metadata", Value: md})
	}
	return o
}

type identityKey struct{}

// WithIdentity returns ctx carrying id as the caller's identity.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity of the caller of the call being served
// (its request's, else its connection's), or nil for an anonymous caller.
// Methods read it from their context.
func FromContext(ctx context.Context) *Identity {
	if id, ok := ctx.Value(identityKey{}).(*Identity); ok {
		return id
	}
	if p := netron.PeerFromContext(ctx); p != nil {
		id, _ := p.Identity().(*Identity)
		return id
	}
	return nil
}

// matchPermission reports whether the granted permission covers want.
// Both are "service:method"-like names split at ':'; a granted part "*"
// covers any part, and a granted "*" alone covers everything.
func matchPermission(granted, want string) bool {
	if granted == want || granted == "*" {
		return true
	}
	for {
		g, grest, gmore := cut(granted)
		w, wrest, wmore := cut(want)
		if g != "*" && g != w {
			return false
		}
		if !gmore {
			// A trailing "*" covers the rest ("calculator:*" covers
			// "calculator:add:fast").
			return !wmore || g == "*"
		}
		if !wmore {
			return false
		}
		granted, want = grest, wrest
	}
}

func cut(s string) (head, rest string, more bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
