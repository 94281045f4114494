package security

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security/certs"
	"github.com/titanframework/titan/modules/security/jwtauth"
)

// Config is the `security` configuration section.
type Config struct {
	// JWT configures the tokens the app accepts (and titan token mints).
	JWT jwtauth.Config `json:"jwt" jsonschema:"description=JSON Web Tokens the app accepts"`
	// RBAC grants permissions to roles.
	RBAC RBACConfig `json:"rbac" jsonschema:"description=Roles and the permissions they grant"`
	// TLS is the certificate of every secure listener and dialer (tls://,
	// wss://, https://), with mTLS when asked.
	TLS certs.Config `json:"tls" jsonschema:"description=TLS and mTLS of every secure listener and dialer"`
	// RateLimit is where titan.RateLimit counts.
	RateLimit RateLimitConfig `json:"rateLimit" jsonschema:"description=Where rate limits count: in-process or shared through Redis"`
	// Auth bounds what callers may do before and while authenticated.
	Auth AuthConfig `json:"auth" jsonschema:"description=Authentication requirements and limits per caller"`
	// Events restricts who may subscribe to the app's events, per event
	// name: a subscription is decided by the first rule whose topic
	// matches the event's name; names no rule matches are left to
	// Auth.Required.
	Events []EventRule `json:"events,omitempty" jsonschema:"description=Who may subscribe to which events: the first rule whose topic matches an event name decides"`
}

// EventRule is who may subscribe to the events whose names match Topic:
// authenticated connections holding one of Roles (directly or by
// inheritance) and every one of Permissions, as titan.Roles and
// titan.Permissions are checked for methods. A rule with neither lets
// every authenticated connection subscribe.
type EventRule struct {
	// Topic is a pattern of event names, as netron's Subscribe takes: names
	// are dot-separated tokens, "*" stands for exactly one token and a
	// final ">" for one or more ("orders.*", "orders.>"; "orders.>" does
	// not match "orders" itself).
	Topic string `json:"topic" jsonschema:"description=Event names the rule covers: dot-separated tokens; * is one token and a final > one or more (orders.>)"`
	// Roles: the subscriber needs one of them (none: any role).
	Roles []string `json:"roles,omitempty" jsonschema:"description=Roles of which the subscriber needs one (directly or inherited); empty: any"`
	// Permissions: the subscriber needs every one of them (granted by its
	// token or by its roles in RBAC; "*" wildcards on the granted side).
	Permissions []string `json:"permissions,omitempty" jsonschema:"description=Permissions the subscriber needs every one of"`
}

// RBACConfig grants permissions to roles.
type RBACConfig struct {
	// Roles are the roles by name.
	Roles map[string]Role `json:"roles,omitempty" jsonschema:"description=Roles by name: the permissions each grants and the roles it inherits"`
	// Subjects give roles to callers whose credentials carry none (a
	// certificate's identity, a user of an Authenticator), by subject.
	Subjects map[string][]string `json:"subjects,omitempty" jsonschema:"description=Roles given to subjects whose credentials carry none (certificate identities)"`
	// MethodPermissions makes every protected method also require the
	// permission "<service>:<method>" (service name without version).
	MethodPermissions bool `json:"methodPermissions,omitempty" jsonschema:"description=Protected methods also require the permission service:method"`
}

// Role is what one role grants.
type Role struct {
	// Permissions are names such as "calculator:add"; "*" parts are
	// wildcards ("calculator:*", "*").
	Permissions []string `json:"permissions,omitempty" jsonschema:"description=Permissions the role grants (service:method; * wildcards)"`
	// Inherits are roles whose permissions this one has too.
	Inherits []string `json:"inherits,omitempty" jsonschema:"description=Roles whose permissions this role has too"`
}

// RateLimitConfig says where titan.RateLimit counts.
type RateLimitConfig struct {
	// Backend is "memory" (default: each instance counts alone) or "redis"
	// (every instance sharing URL counts together). The redis backend is
	// linked only into a program that imports its package:
	//
	//	import _ "github.com/titanframework/titan/modules/security/ratelimit/redis"
	//
	// without it, start-up fails with an error naming that import.
	Backend string `json:"backend,omitempty" jsonschema:"description=memory (per instance) or redis (shared by every instance)"`
	// URL is the Redis server of the redis backend.
	URL string `json:"url,omitempty" jsonschema:"description=Redis URL of the redis backend (default redis://127.0.0.1:6379/0)"`
	// Prefix is the first part of the Redis keys.
	Prefix string `json:"prefix,omitempty" jsonschema:"pattern=^[A-Za-z0-9_-]+$,description=Prefix of the Redis keys (default titan)"`
	// FailOpen lets calls through when Redis cannot be reached (default:
	// refuse them, unavailable). Logged either way.
	FailOpen bool `json:"failOpen,omitempty" jsonschema:"description=Let calls through when Redis is unreachable (default: refuse them)"`
	// MaxKeys bounds the callers the memory backend tracks (default
	// 100,000).
	MaxKeys int `json:"maxKeys,omitempty" jsonschema:"minimum=0,description=Callers the memory backend tracks at most (default 100000)"`
}

// AuthConfig bounds what callers may do before and while authenticated.
type AuthConfig struct {
	// Required makes every connection of a stream transport (tcp, ws, ...)
	// authenticate within Timeout, or be closed; until it has, it may not
	// subscribe to the app's events either. A connection that a failed
	// authentication leaves anonymous has Timeout again to authenticate.
	Required bool `json:"required,omitempty" jsonschema:"description=Every connection must authenticate within auth.timeout"`
	// Timeout is how long a connection may stay unauthenticated when
	// Required (default 10s).
	Timeout time.Duration `json:"timeout,omitempty" jsonschema:"description=How long a connection may stay unauthenticated when required (default 10s)"`
	// MaxFailures is how many failed authentications a remote address
	// (for IPv6, its /64 network; over NATS, the caller's Netron id) may
	// make per minute; more are refused without checking (default 10;
	// negative: no limit). Attempts sent at once count as they run: no
	// more are checked at a time than failures are left, the others wait.
	// A token verified before is not checked again, so it still passes
	// from an address that is refused.
	MaxFailures int `json:"maxFailures,omitempty" jsonschema:"description=Failed authentications per remote address (IPv6: per /64 network) per minute (default 10; negative: no limit)"`
	// MaxConnectionsPerSubject caps the connections authenticated as one
	// subject (0: no cap).
	MaxConnectionsPerSubject int `json:"maxConnectionsPerSubject,omitempty" jsonschema:"minimum=0,description=Connections one subject may have authenticated at once (0: no cap)"`
	// MaxCallsPerSubject caps the calls one subject has running at once
	// (0: no cap).
	MaxCallsPerSubject int `json:"maxCallsPerSubject,omitempty" jsonschema:"minimum=0,description=Calls one subject may have running at once (0: no cap)"`
}

// DefaultConfig returns the defaults of the section.
func DefaultConfig() Config {
	return Config{
		RateLimit: RateLimitConfig{Backend: "memory", Prefix: "titan", MaxKeys: 100_000},
		Auth:      AuthConfig{Timeout: 10 * time.Second, MaxFailures: 10},
	}
}

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	if c.JWT.Enabled() {
		if err := c.JWT.Validate(); err != nil {
			return err
		}
	}
	if c.TLS != (certs.Config{}) {
		if err := c.TLS.Validate(); err != nil {
			return err
		}
	}
	if c.Auth.Timeout < 0 {
		return fmt.Errorf("security.auth.timeout: %v is negative", c.Auth.Timeout)
	}
	if c.Auth.MaxConnectionsPerSubject < 0 {
		return fmt.Errorf("security.auth.maxConnectionsPerSubject: %d is negative", c.Auth.MaxConnectionsPerSubject)
	}
	if c.Auth.MaxCallsPerSubject < 0 {
		return fmt.Errorf("security.auth.maxCallsPerSubject: %d is negative", c.Auth.MaxCallsPerSubject)
	}
	if _, err := compileRBAC(c.RBAC); err != nil {
		return err
	}
	_, err := compileEventRules(c.Events)
	return err
}

// eventRule is a compiled rule of security.events.
type eventRule struct {
	key     string // security.events[i], for messages
	pattern netron.EventPattern
	EventRule
}

// compileEventRules checks the rules of security.events and parses their
// topics. Roles are not checked against security.rbac.roles:
// a token may grant roles RBAC does not list, as for titan.Roles.
func compileEventRules(rules []EventRule) ([]eventRule, error) {
	out := make([]eventRule, 0, len(rules))
	for i, r := range rules {
		key := fmt.Sprintf("security.events[%d]", i)
		for _, role := range r.Roles {
			if strings.TrimSpace(role) == "" {
				return nil, fmt.Errorf("%s.roles: a role name is empty", key)
			}
		}
		for _, p := range r.Permissions {
			if strings.TrimSpace(p) == "" {
				return nil, fmt.Errorf("%s.permissions: a permission name is empty", key)
			}
		}
		pat, err := netron.ParseEventPattern(r.Topic)
		if err != nil {
			return nil, fmt.Errorf("%s.topic: %w", key, err)
		}
		out = append(out, eventRule{key: key, pattern: pat, EventRule: r})
	}
	return out, nil
}

// rbac is the compiled RBAC configuration: for each role, the roles it
// is (itself and those it inherits) and the permissions they grant.
type rbac struct {
	is       map[string][]string
	perms    map[string][]string
	subjects map[string][]string
	method   bool
}

func compileRBAC(c RBACConfig) (*rbac, error) {
	r := &rbac{is: map[string][]string{}, perms: map[string][]string{}, subjects: c.Subjects, method: c.MethodPermissions}
	names := make([]string, 0, len(c.Roles))
	for n := range c.Roles {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.TrimSpace(name) == "" {
			return nil, errors.New("security.rbac.roles: a role name is empty")
		}
		for _, in := range c.Roles[name].Inherits {
			if _, ok := c.Roles[in]; !ok {
				return nil, fmt.Errorf("security.rbac.roles.%s.inherits: no role %q (have %s)", name, in, strings.Join(names, ", "))
			}
		}
		for _, p := range c.Roles[name].Permissions {
			if strings.TrimSpace(p) == "" {
				return nil, fmt.Errorf("security.rbac.roles.%s.permissions: a permission is empty", name)
			}
		}
	}
	subjects := make([]string, 0, len(c.Subjects))
	for s := range c.Subjects {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	for _, s := range subjects {
		if strings.TrimSpace(s) == "" {
			return nil, errors.New("security.rbac.subjects: a subject name is empty")
		}
		for _, role := range c.Subjects[s] {
			if strings.TrimSpace(role) == "" {
				return nil, fmt.Errorf("security.rbac.subjects.%s: a role name is empty", s)
			}
		}
	}
	for _, name := range names {
		seen := map[string]bool{}
		var walk func(n string, path []string) error
		walk = func(n string, path []string) error {
			if slices.Contains(path, n) {
				return fmt.Errorf("security.rbac.roles: roles inherit each other in a cycle: %s -> %s", strings.Join(path, " -> "), n)
			}
			if seen[n] {
				return nil
			}
			seen[n] = true
			r.is[name] = append(r.is[name], n)
			r.perms[name] = append(r.perms[name], c.Roles[n].Permissions...)
			for _, in := range c.Roles[n].Inherits {
				if err := walk(in, append(path, n)); err != nil {
					return err
				}
			}
			return nil
		}
		if err := walk(name, nil); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// complete fills the identity's role set and permissions from its roles
// (and, when it has no roles, from security.rbac.subjects).
func (r *rbac) complete(id *Identity) {
	if len(id.Roles) == 0 && r.subjects != nil {
		id.Roles = append(id.Roles, r.subjects[id.Subject]...)
	}
	id.roles = make(map[string]bool, len(id.Roles))
	for _, role := range id.Roles {
		id.roles[role] = true
		for _, is := range r.is[role] {
			id.roles[is] = true
		}
		for _, p := range r.perms[role] {
			if !slices.Contains(id.Permissions, p) {
				id.Permissions = append(id.Permissions, p)
			}
		}
	}
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
