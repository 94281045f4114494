package titan

import (
	"errors"
	"fmt"
	"time"

	"github.com/titanframework/titan/modules/linked"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	"github.com/titanframework/titan/modules/security/policy"
)

// Policy is an option of a service, or of one method given to [Method]:
// a policy that a module enforces ([Auth], [Public], [RateLimit] of the
// security module). The module is linked by importing it; a policy in a
// program that does not link its module fails start-up with the import to
// add.
type Policy = netron.Policy

// AuthRequirement narrows who passes [Auth]: [Roles], [Permissions].
type AuthRequirement interface {
	applyAuth(*policy.Auth)
}

type authRequirement func(*policy.Auth)

func (f authRequirement) applyAuth(a *policy.Auth) { f(a) }

// Roles lets in callers that have one of the roles (directly or by the
// inheritance of security.rbac.roles).
func Roles(names ...string) AuthRequirement {
	names = append([]string(nil), names...)
	return authRequirement(func(a *policy.Auth) { a.Roles = append(a.Roles, names...) })
}

// Permissions lets in callers that have every one of the permissions
// (from their token, or from their roles in security.rbac.roles; a
// granted "calculator:*" or "*" covers "calculator:add").
func Permissions(names ...string) AuthRequirement {
	names = append([]string(nil), names...)
	return authRequirement(func(a *policy.Auth) { a.Permissions = append(a.Permissions, names...) })
}

// Auth protects a service, or one method (given to [Method]): anonymous
// callers are refused (unauthenticated), and callers without what reqs
// ask are refused (permission_denied). titan.Auth() alone lets in any
// authenticated caller, like the original's @Authenticated. Given to
// [Method], it replaces the service's Auth for that method, as [Public]
// does, rather than adding to it: with titan.Auth(titan.Roles("admin")) on
// the service, titan.Method("read", titan.Auth(titan.Roles("reader")))
// lets readers call read and no longer admins (titan.Roles("admin",
// "reader") lets in either). It is enforced by the security module
// (import modules/security), on every transport.
func Auth(reqs ...AuthRequirement) Policy {
	a := &policy.Auth{}
	var errs []error
	for i, r := range reqs {
		if r == nil {
			errs = append(errs, fmt.Errorf("requirement %d is nil", i+1))
			continue
		}
		r.applyAuth(a)
	}
	check := checkPolicy(a.Check)
	if err := errors.Join(errs...); err != nil {
		check = func(any) error { return err }
	}
	return netron.WithPolicy(a.String(), policy.AuthKey, a, check)
}

// Public opens one method of a protected service to every caller:
// titan.Method("health", titan.Public()).
func Public() Policy {
	a := &policy.Auth{Public: true}
	return netron.WithPolicy(a.String(), policy.AuthKey, a, checkPolicy(a.Check))
}

// RateLimit allows each caller (by identity, else by address, an IPv6
// address by its /64 network) n calls per window per, over a sliding
// window, on a service (all its methods together) or one method (given to
// [Method]); further calls are refused with resource_exhausted and the
// time to wait (HTTP 429 with Retry-After). It is enforced by the security
// module, in-process or shared through Redis (security.rateLimit.backend).
func RateLimit(n int, per time.Duration) Policy {
	r := &policy.RateLimit{N: n, Per: per}
	return netron.WithPolicy(r.String(), policy.RateLimitKey, r, checkPolicy(r.Check))
}

// CacheVaryBy makes the caller's metadata under keys part of the key a
// cached result ([Cache], [CacheTTL]) is kept under, for every method of a
// service or, given to [Method], for one method:
// titan.Method("prices", titan.CacheTTL(time.Minute), titan.CacheVaryBy("tenant")).
// Name the keys a method reads and answers differently for; callers that
// send different values, or one that sends none, never share a result.
// It is cache.VaryBy.
func CacheVaryBy(keys ...string) Policy { return cache.VaryBy(keys...) }

// checkPolicy checks that the security module is linked, then check.
func checkPolicy(check func() error) func(any) error {
	return func(any) error {
		if err := linked.Require(policy.Module, policy.Import); err != nil {
			return err
		}
		return check()
	}
}
