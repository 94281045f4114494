package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
)

// Module provides the app's [Registry] (discovery.backend), makes the
// app's netron.Resolver find remotes in it (after netron.remotes, which
// still names fixed addresses), and registers the app's services on their
// listeners while the app runs. titan.New includes it.
var Module = fx.Module("titan.discovery",
	config.AsSection("discovery", DefaultConfig()),
	logger.Decorate("discovery"),
	fx.Provide(newRegistry),
	fx.Provide(fx.Annotate(func(reg Registry, cfg *config.Config) netron.Resolver {
		c, _ := config.Section[Config](cfg, "discovery")
		return &Resolver{Registry: reg, Backend: c.Backend}
	}, fx.ResultTags(`group:"`+netron.ResolverGroup+`"`))),
	fx.Invoke(registerServices),
)

// newRegistry returns the configured registry, opened when the app starts
// (within its start timeout) and closed when it stops; see [appRegistry].
func newRegistry(lc fx.Lifecycle, cfg *config.Config, log *slog.Logger) (Registry, error) {
	c, err := config.Section[Config](cfg, "discovery")
	if err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	c.App = cfg
	reg := newAppRegistry(c, log)
	lc.Append(fx.Hook{OnStart: reg.start, OnStop: reg.stop})
	return reg, nil
}

// Resolver is a netron.Resolver (and WatchResolver) over a Registry: the
// healthy instances of the highest version that matches the target, one
// address each. The netron module asks it after netron.remotes.
type Resolver struct {
	Registry Registry
	Backend  string // for messages: "memory", "redis", ...
}

var _ netron.WatchResolver = (*Resolver)(nil)

// Resolve implements netron.Resolver.
func (r *Resolver) Resolve(ctx context.Context, t netron.Target) ([]string, error) {
	ins, err := r.Registry.Discover(ctx, queryOf(t))
	if err != nil {
		return nil, netron.NewError(netron.CodeUnavailable, r.errorOf(t, err))
	}
	addrs := Addresses(ins)
	if len(addrs) == 0 {
		return nil, netron.Errorf(netron.CodeNotFound, "no healthy instance of %s is registered in the %s registry", t, cmp.Or(r.Backend, "discovery"))
	}
	return addrs, nil
}

// Watch implements netron.WatchResolver: the addresses Resolve would give,
// again after every change of the registry.
func (r *Resolver) Watch(ctx context.Context, t netron.Target) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for ins, err := range r.Registry.Watch(ctx, queryOf(t)) {
			if err != nil {
				if !yield(nil, r.errorOf(t, err)) {
					return
				}
				continue
			}
			if !yield(Addresses(ins), nil) {
				return
			}
		}
	}
}

// errorOf is err, an error of the registry finding t, naming t and the
// registry (the clients of some backends say neither: "context deadline
// exceeded").
func (r *Resolver) errorOf(t netron.Target, err error) error {
	return fmt.Errorf("discovery: %s in the %s registry: %w", t, cmp.Or(r.Backend, "discovery"), err)
}

// queryOf is the query of a target: its name, its exact version or range.
func queryOf(t netron.Target) Query {
	q := Query{Service: t.Name, Range: t.RangeText}
	if t.Version != "" {
		q.Range = "=" + t.Version
	}
	return q
}

// schemePreference orders the addresses of an instance: the first of
// these schemes it has is the one a client dials.
var schemePreference = []string{"tcp", "tls", "unix", "ws", "wss", "http", "https", "nats", "mem"}

// Addresses returns, for the instances of the highest version among ins,
// one address each (tcp first, then tls, unix, ws, ...).
func Addresses(ins []Instance) []string {
	var best *semver.Version
	for _, in := range ins {
		if v, err := semver.NewVersion(in.Version); err == nil && (best == nil || v.GreaterThan(best)) {
			best = v
		}
	}
	var out []string
	for _, in := range ins {
		if v, err := semver.NewVersion(in.Version); err != nil || best == nil || !v.Equal(best) {
			continue
		}
		if a := preferred(in.Addrs); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func preferred(addrs []string) string {
	rank := func(a string) int {
		scheme, _, _ := strings.Cut(a, ":")
		if i := slices.Index(schemePreference, strings.ToLower(scheme)); i >= 0 {
			return i
		}
		return len(schemePreference)
	}
	best := ""
	for _, a := range addrs {
		if best == "" || rank(a) < rank(best) {
			best = a
		}
	}
	return best
}

// registerServices registers every service of the app's Netron on its
// listeners once they are up, refreshes the entries every heartbeat, and
// deregisters them first thing on stop (its hooks run after the Netron's
// on start, before them on stop).
func registerServices(p registerParams) error {
	c, err := config.Section[Config](p.Config, "discovery")
	if err != nil {
		return err
	}
	if c.Register != nil && !*c.Register {
		return nil
	}
	stopped, stop := context.WithCancel(context.Background())
	a := &announcer{n: p.Netron, reg: p.Registry, cfg: c, log: p.Log, health: p.Health, stopped: stopped, stop: stop, done: make(chan struct{})}
	p.Lifecycle.Append(fx.Hook{OnStart: a.start, OnStop: a.close})
	return nil
}

type registerParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Netron    *netron.Netron
	Registry  Registry
	Config    *config.Config
	Log       *slog.Logger
	// Health, when the app has one (the metrics module provides its
	// readiness), is written with the registration and every heartbeat.
	Health HealthSource `optional:"true"`
}

// HealthSource tells an app's own health, which the registry entries of its
// instances carry (written with their registration and each heartbeat),
// so that clients pass over an unhealthy instance: modules/metrics
// provides it from the app's readiness checks. It is first asked once the
// app's listeners are up, while the app starts: what it says then is what
// the registration writes, so an app that is not ready is never
// advertised healthy, and one that is needs no heartbeat to be served.
// Without one an app is healthy while it serves, and draining once it
// stops. A HealthSource that panics does not stop the app: the app cannot
// tell its health then, so its entries say Unhealthy (clients pass over
// it, and it stays listed for whoever looks into the registry) until the
// source answers again; the panic is logged once, with its stack (and
// again if it panics again after it answered).
type HealthSource func(ctx context.Context) Health

// announcer keeps an app's instances registered.
type announcer struct {
	n   *netron.Netron
	reg Registry
	cfg Config
	log *slog.Logger
	ins []Instance
	// stopped ends when close begins (stop): it bounds the heartbeat in
	// progress, so that a registry that hangs does not hold the stop.
	stopped context.Context
	stop    context.CancelFunc
	done    chan struct{}

	unannounce func() // stops what an Announcer presents

	health   HealthSource // nil: healthy while serving
	state    Health       // what the entries say (heartbeat's goroutine)
	panicked bool         // health panicked the last time it was asked
}

// currentHealth is what the entries are to say now.
func (a *announcer) currentHealth(ctx context.Context) Health {
	switch {
	case a.n.Draining():
		return Draining
	case a.health == nil:
		return Healthy
	}
	return cmp.Or(a.askHealth(ctx), Healthy)
}

// askHealth is what the HealthSource says, Unhealthy when it panics.
func (a *announcer) askHealth(ctx context.Context) (h Health) {
	defer func() {
		if p := recover(); p != nil {
			if !a.panicked {
				a.log.Error("the app's health source panicked; the registry says the instance is unhealthy until it answers",
					"registry", a.cfg.Backend, "panic", p, "stack", string(debug.Stack()))
			}
			a.panicked = true
			h = Unhealthy
		}
	}()
	h = a.health(ctx)
	a.panicked = false
	return h
}

func (a *announcer) start(ctx context.Context) error {
	ins, err := Instances(a.n, a.cfg.Advertise)
	if err != nil {
		return err
	}
	a.ins = ins
	a.state = Healthy
	if len(ins) > 0 {
		if a.state = a.currentHealth(ctx); a.state != Healthy {
			a.log.Warn("the app is not ready as it registers: the registry says so until it is", "health", a.state, "registry", a.cfg.Backend)
		}
	}
	optional := a.cfg.Required != nil && !*a.cfg.Required
	var registered []Instance
	for _, in := range ins {
		in.Health = a.state
		if err := a.reg.Register(ctx, in); err != nil {
			if optional { // the heartbeats register it once the registry answers
				a.log.Warn("not registered yet; retrying every heartbeat", "service", in.Service+"@"+in.Version, "registry", a.cfg.Backend, "error", err)
				continue
			}
			a.undo(ctx, registered)
			return fmt.Errorf("discovery: register %s at %s in the %s registry: %w", in.ID, strings.Join(in.Addrs, ", "), a.cfg.Backend, err)
		}
		registered = append(registered, in)
		a.log.Info("registered", "service", in.Service+"@"+in.Version, "addrs", in.Addrs, "registry", a.cfg.Backend)
	}
	if an, ok := a.reg.(Announcer); ok {
		stop, err := an.Announce(ctx, a.n, ins)
		if err != nil {
			a.undo(ctx, registered)
			return fmt.Errorf("discovery: %w", err)
		}
		a.unannounce = stop
	}
	go a.heartbeat()
	return nil
}

// undo deregisters the instances a start that fails registered: fx runs
// no stop hook for a start hook that failed, and the listeners they name
// close as the start is undone. A registry that does not answer leaves
// them to expire.
func (a *announcer) undo(ctx context.Context, ins []Instance) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deregisterTimeout)
	defer cancel()
	for _, in := range ins {
		if err := a.reg.Deregister(dctx, in.ID); err != nil {
			a.log.Warn("the start failed, and deregistering failed; the entry expires with its TTL", "instance", in.ID, "registry", a.cfg.Backend, "ttl", a.cfg.TTL, "error", err)
		}
	}
}

// heartbeat refreshes the entries until close; a failure is logged once
// until the registry answers again.
func (a *announcer) heartbeat() {
	defer close(a.done)
	t := time.NewTicker(a.cfg.Heartbeat)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-a.stopped.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(a.stopped, a.cfg.Heartbeat)
		if h := a.currentHealth(ctx); h != a.state {
			level := slog.LevelInfo
			if h != Healthy {
				level = slog.LevelWarn
			}
			a.log.Log(ctx, level, "instance health changed; the registry says so from now on", "from", a.state, "to", h, "registry", a.cfg.Backend)
			a.state = h
		}
		var errs []error
		for _, in := range a.ins {
			in.Health = a.state
			if err := a.reg.Register(ctx, in); err != nil {
				errs = append(errs, err)
			}
		}
		cancel()
		if a.stopped.Err() != nil { // cut short by close: not a failure to report
			return
		}
		switch err := errors.Join(errs...); {
		case err != nil && !failing:
			a.log.Warn("heartbeat to the registry failed; retrying every heartbeat", "registry", a.cfg.Backend, "error", err)
			failing = true
		case err == nil && failing:
			a.log.Info("heartbeat to the registry restored", "registry", a.cfg.Backend)
			failing = false
		}
	}
}

// close stops the heartbeats, deregisters the instances and waits the
// deregistration delay, before the Netron drains (its stop hook runs
// after this one). A registry that does not answer within
// deregisterTimeout is logged and left to expire the entries: it does
// not hold the stop.
func (a *announcer) close(ctx context.Context) error {
	a.stop()
	if a.ins == nil {
		return nil
	}
	<-a.done
	if a.unannounce != nil {
		a.unannounce()
	}
	dctx, cancel := context.WithTimeout(ctx, deregisterTimeout)
	defer cancel()
	var errs []error
	for _, in := range a.ins {
		if err := a.reg.Deregister(dctx, in.ID); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", in.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		a.log.Warn("deregistering failed; the entries expire with their TTL", "registry", a.cfg.Backend, "ttl", a.cfg.TTL, "error", err)
	}
	select {
	case <-time.After(a.cfg.deregisterDelay()):
	case <-ctx.Done():
	}
	return nil
}

// deregisterTimeout bounds the deregistration of a stopping app.
const deregisterTimeout = 2 * time.Second

// Instances returns the instances a Netron serves: one per service, with
// the addresses of the listeners that expose it, an unspecified host
// (0.0.0.0, [::]) replaced by advertise or, when that is empty, by the
// machine's first non-loopback address.
func Instances(n *netron.Netron, advertise string) ([]Instance, error) {
	addrs := n.Addrs()
	var out []Instance
	for _, d := range n.Describe() {
		in := Instance{ID: n.ID() + "/" + netron.QualifiedName(d.Name, d.Version), Service: d.Name, Version: d.Version, Health: Healthy}
		for _, a := range addrs {
			scheme, _, _ := strings.Cut(a, ":")
			if d.Transports != nil && !slices.Contains(d.Transports, scheme) {
				continue
			}
			adv, err := advertised(a, advertise)
			if err != nil {
				return nil, err
			}
			in.Addrs = append(in.Addrs, adv)
		}
		if len(in.Addrs) > 0 {
			out = append(out, in)
		}
	}
	return out, nil
}

// advertised returns addr with an unspecified host replaced.
func advertised(addr, advertise string) (string, error) {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return addr, nil // unix://, mem://, ipc: keep their form
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsUnspecified() {
		return addr, nil
	}
	host := advertise
	if host == "" {
		if host, err = outwardIP(); err != nil {
			return "", fmt.Errorf("discovery: %s listens on every interface and no address to advertise was found (set discovery.advertise): %w", addr, err)
		}
	}
	u.Host = net.JoinHostPort(host, u.Port())
	return u.String(), nil
}

// outwardIP returns the machine's first non-loopback unicast address,
// IPv4 first.
func outwardIP() (string, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "", err
	}
	var v6 string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || !ipn.IP.IsGlobalUnicast() && !ipn.IP.IsPrivate() {
			continue
		}
		if ipn.IP.To4() != nil {
			return ipn.IP.String(), nil
		}
		v6 = cmp.Or(v6, ipn.IP.String())
	}
	if v6 == "" {
		return "", errors.New("no non-loopback address")
	}
	return v6, nil
}
