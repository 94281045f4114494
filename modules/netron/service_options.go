package netron

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ServiceOption configures a service at registration ([Netron.Register],
// titan.Service).
type ServiceOption interface {
	applyService(*serviceConfig)
	String() string
}

// MethodOption configures one method ([WithMethod], titan.Method).
type MethodOption interface {
	applyMethod(*methodConfig)
	String() string
}

type serviceConfig struct {
	extensions map[string]any
	transports []string
	namedBy    map[string]string // the Transports option that named each transport
	contracts  map[string]*Contract
	cacheTTL   time.Duration
	methods    map[string][]MethodOption
	setBy      map[string]setting // the option that set each single setting
	errs       []error
}

type methodConfig struct {
	cacheTTL   *time.Duration
	idempotent bool
	args       []string // argument names (WithArgs)
	extensions map[string]any
	setBy      map[string]setting // the option that set each single setting
	errs       []error
}

// setting is the option that set one of the settings a service or a
// method has one of (its cache TTL, its HTTP path, ...): desc is the
// option's String form, value what it set, as text.
type setting struct{ desc, value string }

// claim records that the option desc sets slot, a setting of which there
// is one, to value (as text), and reports whether it may: when an option
// set slot to another value before, it records an error that names both
// options and what is single (what: "a service has one cache TTL") and
// returns false. The same value given twice is accepted. slot is the
// option's name, or "key "+key for an extension or a policy, which share
// the map of extensions.
func claim(setBy *map[string]setting, errs *[]error, slot, desc, value, what string) bool {
	if prev, ok := (*setBy)[slot]; ok {
		if prev.value == value {
			return true
		}
		*errs = append(*errs, fmt.Errorf("%s conflicts with %s: %s", desc, prev.desc, what))
		return false
	}
	if *setBy == nil {
		*setBy = map[string]setting{}
	}
	(*setBy)[slot] = setting{desc, value}
	return true
}

type serviceOption struct {
	desc string
	fn   func(*serviceConfig)
}

func (o serviceOption) applyService(c *serviceConfig) { o.fn(c) }
func (o serviceOption) String() string                { return o.desc }

type methodOption struct {
	desc string
	fn   func(*methodConfig)
}

func (o methodOption) applyMethod(c *methodConfig) { o.fn(c) }
func (o methodOption) String() string              { return o.desc }

// quoted lists strings as Go writes them in a call: "a", "b". Options
// describe themselves in that form (String), as the call that made them.
func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// WithTransports restricts the service to the app's listeners of these
// transports (by scheme name, in any case: "tcp", "unix", "ws", ...); a
// name that no transport of the Netron has fails [Netron.Register]. By
// default a service is reachable on every listener.
func WithTransports(names ...string) ServiceOption {
	desc := fmt.Sprintf("Transports(%s)", quoted(names))
	return serviceOption{desc, func(c *serviceConfig) {
		if len(names) == 0 {
			c.errs = append(c.errs, fmt.Errorf("Transports(): name at least one transport"))
		}
		if c.namedBy == nil {
			c.namedBy = map[string]string{}
		}
		for _, name := range names {
			name = strings.ToLower(name) // a scheme, as in addresses
			c.transports = append(c.transports, name)
			c.namedBy[name] = desc
		}
	}}
}

// Contract is an explicit JSON Schema contract of one method. In is the
// schema of the positional arguments as an array (a tuple with
// "prefixItems"); Out is the schema of the result, or of each item of a
// stream. A nil schema is derived from the Go types as usual.
type Contract struct {
	In, Out json.RawMessage
}

// WithContract sets the contract of the method with the given wire name,
// replacing the schemas derived from its Go types. in and out are JSON Schema
// documents (draft 2020-12); either may be nil to keep the derived one.
func WithContract(method string, in, out json.RawMessage) ServiceOption {
	desc := fmt.Sprintf("Contract(%q)", method)
	return serviceOption{desc, func(c *serviceConfig) {
		if !claim(&c.setBy, &c.errs, "Contract "+method, desc, string(in)+"\x00"+string(out), "a method has one contract") {
			return
		}
		if c.contracts == nil {
			c.contracts = map[string]*Contract{}
		}
		c.contracts[method] = &Contract{In: in, Out: out}
	}}
}

// WithCache caches the results of every unary method of the service for
// ttl (per method overridable with [WithCacheTTL]). The key is the service,
// the method, the caller's identity ([WithIdentity]) and the arguments,
// not the call's metadata: a method whose result depends on metadata it
// reads with [IncomingMetadata] (a tenant, a locale) must name those keys
// with cache.VaryBy, or not be cached. A service has one TTL: two WithCache
// options with different TTLs fail Register.
func WithCache(ttl time.Duration) ServiceOption {
	desc := fmt.Sprintf("Cache(%v)", ttl)
	return serviceOption{desc, func(c *serviceConfig) {
		if ttl < 0 {
			c.errs = append(c.errs, fmt.Errorf("%s: negative TTL", desc))
			return
		}
		if !claim(&c.setBy, &c.errs, "Cache", desc, ttl.String(), "a service has one cache TTL") {
			return
		}
		c.cacheTTL = ttl
	}}
}

// WithMethod applies options to the method with the given wire name.
// Several WithMethod options for one method add up; an option that sets
// one value (a TTL, argument names, an extension, a policy) given twice
// with different values fails Register, naming both.
func WithMethod(name string, opts ...MethodOption) ServiceOption {
	return serviceOption{fmt.Sprintf("Method(%q)", name), func(c *serviceConfig) {
		if c.methods == nil {
			c.methods = map[string][]MethodOption{}
		}
		c.methods[name] = append(c.methods[name], opts...)
	}}
}

// WithMethodExtension records value under key on one method, for the
// interceptor of a package above the engine to read from
// [MethodSpec.Extension] (package validate's SkipOutput, later security
// and resilience policies), as [WithExtension] does for a service. check,
// when not nil, refuses a bad value at Register.
func WithMethodExtension(name, key string, value any, check func(any) error) MethodOption {
	desc := fmt.Sprintf("%s(%#v)", name, value)
	return methodOption{desc, func(c *methodConfig) {
		if check != nil {
			if err := check(value); err != nil {
				c.errs = append(c.errs, fmt.Errorf("%s: %w", desc, err))
				return
			}
		}
		if !claim(&c.setBy, &c.errs, "key "+key, desc, desc, "a method takes one "+name+" option") {
			return
		}
		if c.extensions == nil {
			c.extensions = map[string]any{}
		}
		c.extensions[key] = value
	}}
}

// WithCacheTTL caches the method's results for ttl; 0 turns caching off
// for the method.
func WithCacheTTL(ttl time.Duration) MethodOption {
	desc := fmt.Sprintf("CacheTTL(%v)", ttl)
	return methodOption{desc, func(c *methodConfig) {
		if ttl < 0 {
			c.errs = append(c.errs, fmt.Errorf("%s: negative TTL", desc))
			return
		}
		if !claim(&c.setBy, &c.errs, "CacheTTL", desc, ttl.String(), "a method has one cache TTL") {
			return
		}
		c.cacheTTL = &ttl
	}}
}

// WithIdempotent marks the method idempotent: running it twice has the
// effect of running it once, so a caller may send it again after its
// connection was lost mid-call, to another instance (titan.Remote does).
// The mark is published in the method's metadata ("idempotent": true).
// Without it, only calls that certainly did not run are sent again
// (ErrNotRun).
func WithIdempotent() MethodOption {
	return methodOption{"Idempotent()", func(c *methodConfig) { c.idempotent = true }}
}

// WithArgs names the method's positional arguments, in order, for
// messages ("argument 2 (b): want a number, got a string") and for peers:
// the names are published as the "title" of each prefixItems entry of the
// input contract and as "name" in the definition's argument list. Give one
// name per argument. Without it arguments are numbered only. A method with
// an explicit input contract ([WithContract]) takes its names from the
// titles of that contract's prefixItems instead.
func WithArgs(names ...string) MethodOption {
	desc := fmt.Sprintf("Args(%s)", quoted(names))
	return methodOption{desc, func(c *methodConfig) {
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || seen[n] {
				c.errs = append(c.errs, fmt.Errorf("%s: names must be non-empty and distinct", desc))
				return
			}
			seen[n] = true
		}
		if !claim(&c.setBy, &c.errs, "Args", desc, desc, "a method has one list of argument names") {
			return
		}
		c.args = append([]string(nil), names...)
	}}
}

// WithHTTP serves the service's methods as JSON routes under path on the
// app's HTTP listeners.
//
// Deprecated: the HTTP gateway's own option says it:
// http.Path(path) of modules/netron/http (titan.HTTP). WithHTTP records
// the same extension until the next minor release.
func WithHTTP(path string) ServiceOption {
	// The key is http.PathExtension of modules/netron/http.
	return WithExtension("HTTP", "http.path", path, func(v any) error {
		p, _ := v.(string)
		if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") && p != "/" {
			return fmt.Errorf("the path must start with '/' and not end with one")
		}
		return nil
	})
}

// WithExtension records value under key on the service, for a gateway or
// a module to read from [ServiceDesc.Extensions]: it is how a package above
// the engine gives services options of its own (the HTTP gateway's path,
// later security and resilience policies) without the engine knowing them.
// check, when not nil, refuses a bad value at Register; name is the
// option's name in its String form and in that error ("HTTP(\"x\"): ...").
// Keys are namespaced by the package that owns them ("http.path"); a key
// given twice with different values fails Register, naming both options
// (the same value twice is accepted).
func WithExtension(name, key string, value any, check func(any) error) ServiceOption {
	desc := fmt.Sprintf("%s(%#v)", name, value)
	return serviceOption{desc, func(c *serviceConfig) {
		if check != nil {
			if err := check(value); err != nil {
				c.errs = append(c.errs, fmt.Errorf("%s: %w", desc, err))
				return
			}
		}
		if !claim(&c.setBy, &c.errs, "key "+key, desc, desc, "a service takes one "+name+" option") {
			return
		}
		if c.extensions == nil {
			c.extensions = map[string]any{}
		}
		c.extensions[key] = value
	}}
}

// Policy is an option that applies to a whole service or, given to
// [WithMethod], to one method: a policy that a module above the engine
// enforces (titan.Auth, titan.RateLimit of the security module). A
// method's own value wins over its service's ([MethodSpec.Policy]).
type Policy interface {
	ServiceOption
	MethodOption
}

type policyOption struct {
	desc  string
	key   string
	value any
	check func(any) error
}

func (o policyOption) String() string { return o.desc }

func (o policyOption) record(ext *map[string]any, setBy *map[string]setting, errs *[]error, what string) {
	if o.check != nil {
		if err := o.check(o.value); err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %w", o.desc, err))
			return
		}
	}
	if !claim(setBy, errs, "key "+o.key, o.desc, o.desc, what) {
		return
	}
	if *ext == nil {
		*ext = map[string]any{}
	}
	(*ext)[o.key] = o.value
}

func (o policyOption) applyService(c *serviceConfig) {
	o.record(&c.extensions, &c.setBy, &c.errs, "a service has one "+o.key+" policy")
}

func (o policyOption) applyMethod(c *methodConfig) {
	o.record(&c.extensions, &c.setBy, &c.errs, "a method has one "+o.key+" policy")
}

// WithPolicy records value under key, on the service or on the method it
// is given to, for the module that enforces it to read with
// [MethodSpec.Policy]. desc is the option's String form, as the call that
// made it ("Auth(Roles(\"admin\"))"); check, when not nil, refuses a bad
// value at Register with an error that starts with desc.
func WithPolicy(desc, key string, value any, check func(any) error) Policy {
	return policyOption{desc: desc, key: key, value: value, check: check}
}
