package security

import (
	"strings"
	"testing"
)

func TestMatchPermission(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		granted, want string
		ok            bool
	}{
		{"vault:open", "vault:open", true},
		{"vault:open", "vault:close", false},
		{"vault:*", "vault:open", true},
		{"vault:*", "vault:open:fast", true},
		{"*", "anything:at:all", true},
		{"*:read", "vault:read", true},
		{"*:read", "vault:write", false},
		{"vault", "vault:open", false},
		{"vault:open:fast", "vault:open", false},
		{"vault:*", "vaults:open", false},
	} {
		if got := matchPermission(c.granted, c.want); got != c.ok {
			t.Errorf("matchPermission(%q, %q) = %v, want %v", c.granted, c.want, got, c.ok)
		}
	}
}

func TestRBACInheritance(t *testing.T) {
	t.Parallel()
	r, err := compileRBAC(RBACConfig{Roles: map[string]Role{
		"admin":  {Permissions: []string{"vault:*"}, Inherits: []string{"editor"}},
		"editor": {Permissions: []string{"docs:write"}, Inherits: []string{"reader"}},
		"reader": {Permissions: []string{"docs:read"}},
	}, Subjects: map[string][]string{"svc-backup": {"reader"}}})
	if err != nil {
		t.Fatal(err)
	}
	id := &Identity{Subject: "alice", Roles: []string{"admin"}}
	r.complete(id)
	for _, role := range []string{"admin", "editor", "reader"} {
		if !id.HasRole(role) {
			t.Errorf("admin does not have the role %s it inherits", role)
		}
	}
	for _, p := range []string{"vault:open", "docs:write", "docs:read"} {
		if !id.Can(p) {
			t.Errorf("admin may not %s", p)
		}
	}
	if id.Can("billing:read") {
		t.Error("admin may billing:read, which no role grants")
	}
	svc := &Identity{Subject: "svc-backup"}
	r.complete(svc)
	if !svc.HasRole("reader") || !svc.Can("docs:read") || svc.Can("docs:write") {
		t.Errorf("a subject's roles from security.rbac.subjects: %+v", svc)
	}
}

func TestRBACConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg  RBACConfig
		want string
	}{
		{RBACConfig{Roles: map[string]Role{"a": {Inherits: []string{"b"}}, "b": {Inherits: []string{"a"}}}}, "security.rbac.roles: roles inherit each other in a cycle"},
		{RBACConfig{Roles: map[string]Role{"a": {Inherits: []string{"ghost"}}}}, `security.rbac.roles.a.inherits: no role "ghost"`},
		{RBACConfig{Roles: map[string]Role{"a": {Permissions: []string{" "}}}}, "security.rbac.roles.a.permissions: a permission is empty"},
	} {
		_, err := compileRBAC(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Auth.Timeout = -1 }, "security.auth.timeout"},
		{func(c *Config) { c.Auth.MaxCallsPerSubject = -1 }, "security.auth.maxCallsPerSubject"},
		{func(c *Config) { c.JWT.Secret = "short" }, "security.jwt.secret"},
	} {
		cfg := DefaultConfig()
		c.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want an error naming %q", err, c.want)
		}
	}
}

// A subject of security.rbac.subjects with an empty name, or given an
// empty role name, and a role of security.rbac.roles with an empty name
// are configuration errors naming the key: no caller has an empty
// subject, and an empty role name is no role a caller could be given or
// a method could name, so each would be ignored without a word.
func TestRBACEmptyNamesConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		subjects map[string][]string
		want     string
	}{
		{map[string][]string{" ": {"admin"}}, "security.rbac.subjects: a subject name is empty"},
		{map[string][]string{"alice": {"admin", ""}}, "security.rbac.subjects.alice: a role name is empty"},
	} {
		cfg := DefaultConfig()
		cfg.RBAC.Subjects = c.subjects
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.subjects, err, c.want)
		}
	}
	cfg := DefaultConfig()
	cfg.RBAC.Roles = map[string]Role{"": {Permissions: []string{"vault:open"}}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "security.rbac.roles: a role name is empty") {
		t.Errorf("a role with an empty name: %v, want an error naming security.rbac.roles", err)
	}
}
