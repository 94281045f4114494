// Package policy holds the security policies that titan.Auth, titan.Public
// and titan.RateLimit record on a service or a method, for the security
// module (modules/security) to enforce. It has no dependencies, so that
// the root package can record policies without linking the module; a
// policy recorded in a program that does not link the module fails
// start-up (linked.Require).
package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Keys under which the policies are recorded (netron.WithPolicy) and read
// (netron.MethodSpec.Policy).
const (
	AuthKey      = "security.auth"
	RateLimitKey = "security.rateLimit"
)

// Module and Import name the module that enforces the policies, for
// linked.Require.
const (
	Module = "titan.security"
	Import = "github.com/titanframework/titan/modules/security"
)

// Auth is an authentication and authorization policy. A service or method
// under an Auth policy refuses anonymous callers (unauthenticated); Roles
// and Permissions narrow who else it refuses (permission_denied).
type Auth struct {
	// Public opens the method to every caller, authenticated or not
	// (titan.Public), inside a protected service.
	Public bool
	// Roles: the caller needs one of them (directly or by inheritance).
	Roles []string
	// Permissions: the caller needs every one of them (granted by a
	// token, or by its roles in the RBAC configuration; "*" wildcards on
	// the granted side).
	Permissions []string
}

// String formats the policy as the call that made it:
// Auth(Roles("admin")), Public().
func (a *Auth) String() string {
	if a.Public {
		return "Public()"
	}
	var parts []string
	if len(a.Roles) > 0 {
		parts = append(parts, "Roles("+quoted(a.Roles)+")")
	}
	if len(a.Permissions) > 0 {
		parts = append(parts, "Permissions("+quoted(a.Permissions)+")")
	}
	return "Auth(" + strings.Join(parts, ", ") + ")"
}

// Check refuses an empty role or permission name.
func (a *Auth) Check() error {
	for _, r := range a.Roles {
		if strings.TrimSpace(r) == "" {
			return fmt.Errorf("a role name is empty")
		}
	}
	for _, p := range a.Permissions {
		if strings.TrimSpace(p) == "" {
			return fmt.Errorf("a permission name is empty")
		}
	}
	return nil
}

// RateLimit allows N calls per Per, per caller (its identity's subject,
// else its address), over a sliding window.
type RateLimit struct {
	N   int
	Per time.Duration
}

// String formats the policy as the call that made it: RateLimit(100, 1m0s).
func (r *RateLimit) String() string { return fmt.Sprintf("RateLimit(%d, %v)", r.N, r.Per) }

// maxExact bounds N times Per in milliseconds (below it): the rate
// limiters' float64 arithmetic is exact only below 2^53
// (as ratelimit.CheckLimit holds; this package imports nothing).
const maxExact = 1 << 53

// Check refuses a limit that allows nothing, a window that is not
// positive, or one the rate limiters cannot count exactly.
func (r *RateLimit) Check() error {
	if r.N <= 0 {
		return fmt.Errorf("the number of calls must be positive")
	}
	if r.Per <= 0 {
		return fmt.Errorf("the window must be positive")
	}
	if r.Per < time.Millisecond {
		return fmt.Errorf("the window must be at least 1ms")
	}
	if perMS := r.Per.Milliseconds(); int64(r.N) > (maxExact-1)/perMS { // divided: N*perMS may overflow int64
		return fmt.Errorf("%d calls times %d ms of window reach 2^53, beyond which the rate limiters cannot count exactly: lower either", r.N, perMS)
	}
	return nil
}

func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
