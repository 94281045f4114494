// Package discovery finds where services run. A [Registry] holds the
// instances of the services of every Titan process that registers with
// it: an app registers each of its services on each address it listens on
// once its listeners are up, refreshes the entries by heartbeats, and
// deregisters them first thing on a graceful stop; an instance that
// crashed disappears when its entries' time to live runs out. Clients
// find instances by service name and version range ([Query]) and follow
// changes ([Registry.Watch]); titan.Remote does so through the app's
// netron.Resolver, which this module provides.
//
// The backend is chosen by the discovery.backend configuration key.
// memory (package discovery/memory, in the process) is the default; others
// live in packages of their own, registered by name when imported
// ([RegisterBackend]), so that an app links only the client it uses. A
// backend named in the configuration whose package the program does not
// import is a start-up error naming the import.
package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
)

// Health is an instance's own account of its state.
type Health string

// The states an instance reports. Balancers use healthy instances only.
const (
	Healthy   Health = "healthy"
	Draining  Health = "draining" // stopping: finishing its calls, taking no new ones
	Unhealthy Health = "unhealthy"
)

// Instance is one process serving one version of a service.
type Instance struct {
	// ID is unique in the registry: the process's Netron id and the
	// service's qualified name.
	ID string `json:"id"`
	// Service and Version name what the instance serves.
	Service string `json:"service"`
	Version string `json:"version"`
	// Addrs are the URLs it is reachable at, one per listener that exposes
	// the service (tcp://10.0.0.5:7070, ws://…, http://…).
	Addrs []string `json:"addrs"`
	// Metadata carries what balancers and people may use: zone, weight,
	// load, capabilities.
	Metadata map[string]string `json:"metadata,omitempty"`
	// Health is the instance's state as it last reported it.
	Health Health `json:"health"`
}

// Validate reports what makes the instance unfit to register (or, read
// from a registry someone else writes to, to use). The error is of a
// bounded size whatever the instance's (every reader of a registry logs
// it): it names the first few bad addresses, counts the others, and
// quotes the start of a long value.
func (in Instance) Validate() error {
	var problems []string
	if in.ID == "" {
		problems = append(problems, "no id")
	}
	if in.Service == "" {
		problems = append(problems, "no service name")
	}
	if _, err := semver.StrictNewVersion(in.Version); err != nil {
		problems = append(problems, fmt.Sprintf("version %q is not a semantic version", clip(in.Version)))
	}
	if len(in.Addrs) == 0 {
		problems = append(problems, "no address")
	}
	bad := 0
	for _, a := range in.Addrs {
		if err := checkAddr(a); err != nil {
			if bad < maxAddrProblems {
				problems = append(problems, fmt.Sprintf("address %q %s", clip(a), clip(err.Error())))
			}
			bad++
		}
	}
	if bad > maxAddrProblems {
		problems = append(problems, fmt.Sprintf("and %d more bad addresses", bad-maxAddrProblems))
	}
	switch in.Health {
	case Healthy, Draining, Unhealthy:
	default:
		problems = append(problems, fmt.Sprintf("health %q is none of healthy, draining, unhealthy", clip(string(in.Health))))
	}
	if len(problems) > 0 {
		return fmt.Errorf("discovery: instance %q of %s@%s: %s", clip(in.ID), clip(in.Service), clip(in.Version), strings.Join(problems, ", "))
	}
	return nil
}

// maxAddrProblems is how many bad addresses the error of Validate names.
const maxAddrProblems = 3

// clipLen is how much of a value the error of Validate quotes.
const clipLen = 100

// clip returns s, or its start and "…" when it is longer than clipLen
// bytes, for errors.
func clip(s string) string {
	if len(s) <= clipLen {
		return s
	}
	return strings.ToValidUTF8(s[:clipLen], "") + "…"
}

// checkAddr reports what keeps addr from being an address to dial: a URL
// with a scheme and a place (tcp://10.0.0.5:7070, unix:///run/app.sock,
// pipe://name). Whether this program links the scheme's transport is the
// dialler's question.
func checkAddr(addr string) error {
	u, err := url.Parse(addr)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("is not a URL: %v", err)
	case u.Scheme == "":
		return errors.New("has no scheme (want a URL such as tcp://10.0.0.5:7070)")
	case u.Host == "" && u.Path == "" && u.Opaque == "":
		return errors.New("names no host or path")
	}
	return nil
}

// DecodeInstance reads an instance in the JSON form registries keep it in
// (the one encoding/json gives Instance) and checks it with
// [Instance.Validate]: what a backend does with an entry of a registry
// that others write to. An entry longer than [MaxEntryBytes] is refused
// without being decoded, however valid.
func DecodeInstance(b []byte) (Instance, error) {
	if len(b) > MaxEntryBytes {
		return Instance{}, EntryTooLong(len(b))
	}
	var in Instance
	if err := json.Unmarshal(b, &in); err != nil {
		return Instance{}, fmt.Errorf("discovery: not an instance: %w", err)
	}
	if err := in.Validate(); err != nil {
		return Instance{}, err
	}
	return in, nil
}

// MaxEntryBytes bounds the registry entry of an instance that
// [DecodeInstance] reads: 1 MiB, far more than the id, addresses and
// metadata of a real instance take. An entry beyond it (someone with
// access to the registry wrote it) is skipped by the backends that read
// it, and logged, rather than decoded and held by every reader.
const MaxEntryBytes = 1 << 20

// EntryTooLong is the error of [DecodeInstance] for an entry of n bytes,
// longer than [MaxEntryBytes], for a backend that learns an entry's
// length without reading it.
func EntryTooLong(n int) error {
	return fmt.Errorf("discovery: an entry of %d bytes, longer than the limit of %d bytes for an instance (discovery.MaxEntryBytes)", n, MaxEntryBytes)
}

// CheckEntry reports whether entry, the registry entry a backend's
// Register is about to write for in, fits in [MaxEntryBytes]: one longer
// would be skipped by every reader while the app believed it registered.
// Its error names the entry's size, the limit and what takes the room
// (the metadata, most often, and its largest value).
func CheckEntry(in Instance, entry []byte) error {
	if len(entry) <= MaxEntryBytes {
		return nil
	}
	meta, bigKey, big := 0, "", 0
	for k, v := range in.Metadata {
		meta += len(k) + len(v)
		if n := len(k) + len(v); n > big || n == big && k < bigKey {
			bigKey, big = k, n
		}
	}
	addrs := 0
	for _, a := range in.Addrs {
		addrs += len(a)
	}
	var what string
	switch {
	case meta >= addrs && meta >= len(in.ID):
		what = fmt.Sprintf("its metadata takes %d bytes (%d entries; the largest, %q, %d bytes)", meta, len(in.Metadata), clip(bigKey), big)
	case addrs >= len(in.ID):
		what = fmt.Sprintf("its addresses take %d bytes (%d of them)", addrs, len(in.Addrs))
	default:
		what = fmt.Sprintf("its id takes %d bytes", len(in.ID))
	}
	return fmt.Errorf("discovery: instance %q of %s@%s: its registry entry would take %d bytes, more than the limit of %d bytes (discovery.MaxEntryBytes) beyond which every reader skips it: %s", clip(in.ID), clip(in.Service), clip(in.Version), len(entry), MaxEntryBytes, what)
}

// Equal reports whether in and o are the same in every field.
func (in Instance) Equal(o Instance) bool {
	return in.ID == o.ID && in.Service == o.Service && in.Version == o.Version && in.Health == o.Health &&
		slices.Equal(in.Addrs, o.Addrs) && maps.Equal(in.Metadata, o.Metadata)
}

// Changes remembers the last snapshot a Watch yielded, so that it yields
// the first snapshot and then only those that differ. The zero value is
// ready.
type Changes struct {
	last []Instance
	sent bool
}

// Changed reports whether snap is the first snapshot or differs from the
// last one it reported, and remembers it when it does.
func (c *Changes) Changed(snap []Instance) bool {
	if c.sent && slices.EqualFunc(snap, c.last, Instance.Equal) {
		return false
	}
	c.sent, c.last = true, snap
	return true
}

// Query selects instances: of Service, with a version matching Range
// (Masterminds/semver syntax; "" matches any), healthy unless
// AnyHealth.
type Query struct {
	Service   string
	Range     string
	AnyHealth bool
}

// Matcher returns a function that reports whether an instance matches q,
// or the error of a bad range.
func (q Query) Matcher() (func(Instance) bool, error) {
	var c *semver.Constraints
	if q.Range != "" {
		var err error
		if c, err = semver.NewConstraint(q.Range); err != nil {
			return nil, fmt.Errorf("discovery: version range %q: %w", q.Range, err)
		}
	}
	return func(in Instance) bool {
		if in.Service != q.Service || !q.AnyHealth && in.Health != Healthy {
			return false
		}
		if c == nil {
			return true
		}
		v, err := semver.NewVersion(in.Version)
		return err == nil && c.Check(v)
	}, nil
}

// Registry is where instances are registered and found. Implementations
// are safe for concurrent use.
type Registry interface {
	// Register adds the instance, or refreshes it (a heartbeat: the same
	// call again), for the registry's time to live.
	Register(ctx context.Context, in Instance) error
	// Deregister removes the instance with the id; an unknown id is not an
	// error.
	Deregister(ctx context.Context, id string) error
	// Discover returns the instances q selects, sorted by id.
	Discover(ctx context.Context, q Query) ([]Instance, error)
	// Watch yields the instances q selects now, then again after each
	// change, until ctx ends or the loop breaks. An error is yielded when
	// the registry cannot be read; the watch goes on after it, yielding
	// again once it can.
	Watch(ctx context.Context, q Query) iter.Seq2[[]Instance, error]
	// Health returns the health the instance last reported.
	Health(ctx context.Context, id string) (Health, error)
	// Close releases the registry's connections; instances it registered
	// stay until deregistered or expired.
	Close() error
}

// Lister is implemented by registries that can list the names of the
// services they hold (titan services).
type Lister interface {
	Services(ctx context.Context) ([]string, error)
}

// Announcer is implemented by registries that also present an app's
// registered services in their backend's own way (the NATS backend
// answers the NATS service protocol). The app calls Announce after
// registering and stop when it stops.
type Announcer interface {
	Announce(ctx context.Context, e netron.Engine, ins []Instance) (stop func(), err error)
}

// ErrNotFound is matched by the error of Health for an id the registry
// does not hold.
var ErrNotFound = errors.New("discovery: no such instance")

// Config is the `discovery` configuration section.
type Config struct {
	// Backend names the registry: memory (default) or a backend whose
	// package the program imports (redis, nats, etcd, consul,
	// kubernetes, composite).
	Backend string `json:"backend" jsonschema:"description=Registry backend: memory or an imported backend (redis, nats, etcd, consul, kubernetes, composite)"`
	// URL is the backend's address (redis://127.0.0.1:6379, ...).
	URL string `json:"url,omitempty" jsonschema:"description=Address of the registry backend"`
	// Backends are the registries the composite backend joins, by URL
	// whose scheme names the backend (redis://…, nats://…, etcd://…,
	// consul://host:8500 for a Consul agent, memory://).
	Backends []string `json:"backends,omitempty" jsonschema:"description=Registries the composite backend joins, by URL"`
	// Prefix is the first part of every key or subject the backend writes.
	Prefix string `json:"prefix,omitempty" jsonschema:"pattern=^[A-Za-z0-9_-]+$,description=Prefix of the backend's keys"`
	// Heartbeat is how often an instance refreshes its entries.
	Heartbeat time.Duration `json:"heartbeat" jsonschema:"description=How often registered instances refresh their entries"`
	// TTL is how long an entry lives without a heartbeat.
	TTL time.Duration `json:"ttl" jsonschema:"description=How long an entry lives without a heartbeat"`
	// Advertise is the host put in registered addresses in place of a
	// listener's unspecified one (0.0.0.0, [::]); empty picks the
	// machine's first non-loopback address.
	Advertise string `json:"advertise,omitempty" jsonschema:"description=Host to advertise instead of 0.0.0.0 or ::"`
	// DeregisterDelay is how long a stopping app waits after deregistering
	// before it drains, so that its clients learn it is leaving and stop
	// picking it (calls sent meanwhile are still served). Unset: 20ms with
	// the memory backend, whose watchers hear at once, else 1 s.
	DeregisterDelay *time.Duration `json:"deregisterDelay,omitempty" jsonschema:"description=Wait after deregistering before draining (default 20ms in memory, 1s otherwise)"`
	// Balancer is how titan.Remote spreads calls over the instances:
	// round-robin (default), random, least-pending (the instance with the
	// fewest calls in flight from this process) or power-of-two (the less
	// busy of two picked at random).
	Balancer string `json:"balancer" jsonschema:"enum=round-robin,enum=random,enum=least-pending,enum=power-of-two,description=How remote calls are spread over instances"`
	// Required makes an unreachable registry at start-up a start-up error
	// (the default); false starts without it, logs a warning, and retries
	// every heartbeat.
	Required *bool `json:"required,omitempty" jsonschema:"description=Fail start-up when the registry does not answer (default true)"`
	// Register turns the registration of the app's services off (a
	// client-only app).
	Register *bool `json:"register,omitempty" jsonschema:"description=Register the app's services (default true)"`

	// App is the whole configuration of the app that opens the registry,
	// set by the module (nil when a registry is opened outside an app, as
	// titan services does), for backends configured in another section as
	// well: the nats backend reads nats.embedded. It is not a key.
	App *config.Config `json:"-"`
}

// DefaultConfig is the configuration of an app that sets none: the memory
// registry, heartbeats every 5 s, entries living 15 s.
func DefaultConfig() Config {
	return Config{Backend: "memory", Prefix: "titan", Heartbeat: 5 * time.Second, TTL: 15 * time.Second, Balancer: "round-robin"}
}

// deregisterDelay returns the DeregisterDelay in force.
func (c Config) deregisterDelay() time.Duration {
	switch {
	case c.DeregisterDelay != nil:
		return max(*c.DeregisterDelay, 0)
	case c.Backend == "memory":
		return 20 * time.Millisecond
	}
	return time.Second
}

// check returns what is wrong with c, nil when nothing is.
func (c Config) check() error {
	var problems []string
	if c.Heartbeat <= 0 {
		problems = append(problems, fmt.Sprintf("discovery.heartbeat: want a positive duration, got %v", c.Heartbeat))
	}
	if c.TTL <= c.Heartbeat {
		problems = append(problems, fmt.Sprintf("discovery.ttl: want more than discovery.heartbeat (%v), got %v", c.Heartbeat, c.TTL))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// BackendFactory opens a registry from the configuration; log receives
// what the backend notices (entries it skips, reconnections).
type BackendFactory func(ctx context.Context, c Config, log *slog.Logger) (Registry, error)

var backends = struct {
	sync.Mutex
	m map[string]BackendFactory
}{m: map[string]BackendFactory{}}

// RegisterBackend makes the backend name available to discovery.backend.
// It is meant for the init function of the backend's package; a name
// registered twice panics.
func RegisterBackend(name string, f BackendFactory) {
	backends.Lock()
	defer backends.Unlock()
	if _, dup := backends.m[name]; dup || f == nil || name == "" {
		panic(fmt.Sprintf("discovery.RegisterBackend(%q): a name registered twice, empty or without a factory", name))
	}
	backends.m[name] = f
}

// backendPackages names the package of each of Titan's own backends, for
// the error of one the program does not import.
var backendPackages = map[string]string{
	"memory":     "github.com/titanframework/titan/modules/discovery/memory",
	"redis":      "github.com/titanframework/titan/modules/discovery/redis",
	"nats":       "github.com/titanframework/titan/modules/discovery/nats",
	"etcd":       "github.com/titanframework/titan/modules/discovery/etcd",
	"consul":     "github.com/titanframework/titan/modules/discovery/consul",
	"kubernetes": "github.com/titanframework/titan/modules/discovery/kubernetes",
	"composite":  "github.com/titanframework/titan/modules/discovery/composite",
}

// embeddedPackage links the nats backend with the machine's embedded
// server (nats.embedded).
const embeddedPackage = "github.com/titanframework/titan/modules/discovery/nats/embedded"

// embeddedWanted reports whether app's configuration turns nats.embedded
// on (true, or an object without enabled: false), read raw: the section's
// type belongs to a package this program may not link.
func embeddedWanted(app *config.Config) bool {
	if app == nil {
		return false
	}
	on := func(v any) bool {
		b, err := strconv.ParseBool(fmt.Sprint(v))
		return err == nil && b
	}
	switch v := app.Get("nats.embedded").(type) {
	case map[string]any:
		return v["enabled"] == nil || on(v["enabled"])
	case nil:
		return false
	default: // a bool, or a string where the section is not registered
		return on(v)
	}
}

// Open opens the registry c names; log may be nil.
func Open(ctx context.Context, c Config, log *slog.Logger) (Registry, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	backends.Lock()
	f := backends.m[c.Backend]
	known := slices.Sorted(maps.Keys(backends.m))
	backends.Unlock()
	if f == nil {
		if c.Backend == "nats" && embeddedWanted(c.App) {
			return nil, fmt.Errorf("discovery.backend \"nats\" with nats.embedded: the embedded NATS server is not linked into this program; add import _ %q", embeddedPackage)
		}
		if pkg := backendPackages[c.Backend]; pkg != "" {
			return nil, fmt.Errorf("discovery.backend %q: the backend's package is not linked into this program; add import _ %q", c.Backend, pkg)
		}
		return nil, fmt.Errorf("discovery.backend %q: no such backend (linked: %s)", c.Backend, strings.Join(known, ", "))
	}
	r, err := f(ctx, c, log)
	if err != nil {
		return nil, fmt.Errorf("discovery.backend %q: %w", c.Backend, err)
	}
	return r, nil
}

// SortInstances sorts instances by id, the order Discover returns.
func SortInstances(ins []Instance) {
	sort.Slice(ins, func(i, j int) bool { return ins[i].ID < ins[j].ID })
}

// RedactURL returns a registry URL (or URLs separated by commas, as
// discovery.url may list servers) with any password replaced by "xxxxx",
// and a user without a password too (NATS takes a token there:
// nats://token@host), for logs and errors; a part that does not parse as
// a URL is kept as it is.
func RedactURL(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				parts[i] = u.Redacted()
			} else {
				u.User = url.User("xxxxx")
				parts[i] = u.String()
			}
		}
	}
	return strings.Join(parts, ",")
}
