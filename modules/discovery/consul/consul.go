// Package consul is discovery's Consul backend ("consul", on
// hashicorp/consul/api): import it and set discovery.backend: consul and
// discovery.url: http://host:8500 (the local agent).
//
// Each instance is an agent service named after the Titan service, with a
// TTL check that heartbeats keep passing; a crashed instance's check turns
// critical when the TTL runs out, which takes it out of discovery at
// once, and the agent removes it a minute later. The Titan id, version,
// addresses and metadata travel in the service's meta (titan_id,
// titan_version, titan_addrs, m_<key>); the Consul service id is the
// Titan id in base64url, as Consul ids go into URL paths. Finding
// instances reads the passing ones (/v1/health/service/<name>); Watch
// follows them with Consul's blocking queries. A service tagged titan
// that is not a Titan instance is skipped and logged (once, and again if
// its fault changes).
package consul

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/titanframework/titan/internal/logevery"
	"github.com/titanframework/titan/modules/discovery"
)

func init() {
	discovery.RegisterBackend("consul", func(ctx context.Context, c discovery.Config, log *slog.Logger) (discovery.Registry, error) {
		return Open(ctx, c.URL, c.TTL, log)
	})
}

// Registry is a discovery.Registry in a Consul agent.
type Registry struct {
	c   *api.Client
	tr  *http.Transport
	ttl time.Duration
	log *slog.Logger
	bad logevery.Faults // the services skipped that were logged, by node and id

	mu         sync.Mutex
	registered map[string]string // Titan id -> the registration's JSON, to see changes
}

var (
	_ discovery.Registry = (*Registry)(nil)
	_ discovery.Lister   = (*Registry)(nil)
)

// Open connects to the Consul agent at addr (http://host:8500, the
// default http://127.0.0.1:8500; https:// for TLS) and checks that it
// answers.
func Open(ctx context.Context, addr string, ttl time.Duration, log *slog.Logger) (*Registry, error) {
	if addr == "" {
		addr = "http://127.0.0.1:8500"
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "consul") || u.Host == "" {
		return nil, fmt.Errorf("discovery.url %q: want http://host:8500 (the Consul agent)", discovery.RedactURL(addr))
	}
	scheme := u.Scheme
	if scheme == "consul" {
		scheme = "http"
	}
	if ttl <= 0 {
		ttl = discovery.DefaultConfig().TTL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	c, err := api.NewClient(&api.Config{Address: u.Host, Scheme: scheme, Transport: tr})
	if err != nil {
		return nil, fmt.Errorf("consul at %s: %w", discovery.RedactURL(addr), err)
	}
	if _, err := c.Status().LeaderWithQueryOptions((&api.QueryOptions{}).WithContext(ctx)); err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("consul at %s does not answer: %w", discovery.RedactURL(addr), err)
	}
	return &Registry{c: c, tr: tr, ttl: ttl, log: log, registered: map[string]string{}}, nil
}

func serviceID(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }
func checkID(id string) string   { return "titan:" + serviceID(id) }

// Register implements discovery.Registry: the first call (and one after
// the instance changed, or the agent forgot it) registers the service
// with its TTL check; later ones pass the check.
func (r *Registry) Register(ctx context.Context, in discovery.Instance) error {
	if err := in.Validate(); err != nil {
		return err
	}
	reg, err := registration(in, r.ttl)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(reg)
	r.mu.Lock()
	same := r.registered[in.ID] == string(b)
	r.mu.Unlock()
	q := (&api.QueryOptions{}).WithContext(ctx)
	if same {
		err := r.c.Agent().UpdateTTLOpts(checkID(in.ID), "", api.HealthPassing, q)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("discovery/consul: Register of %s: passing its check: %w", in.ID, err)
		}
		// The agent does not know the check (it restarted): register again.
	}
	if err := r.c.Agent().ServiceRegisterOpts(reg, api.ServiceRegisterOpts{}.WithContext(ctx)); err != nil {
		return fmt.Errorf("discovery/consul: Register of %s: %w", in.ID, err)
	}
	if err := r.c.Agent().UpdateTTLOpts(checkID(in.ID), "", api.HealthPassing, q); err != nil {
		return fmt.Errorf("discovery/consul: Register of %s: passing its check: %w", in.ID, err)
	}
	r.mu.Lock()
	r.registered[in.ID] = string(b)
	r.mu.Unlock()
	return nil
}

// registration is the agent service of an instance.
func registration(in discovery.Instance, ttl time.Duration) (*api.AgentServiceRegistration, error) {
	addrs, err := json.Marshal(in.Addrs)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{"titan_id": in.ID, "titan_version": in.Version, "titan_addrs": string(addrs), "titan_health": string(in.Health)}
	if len(addrs) > metaValueMax {
		return nil, fmt.Errorf("discovery/consul: instance %s: its addresses take %d bytes, more than the %d of a Consul service meta value: give it fewer addresses", in.ID, len(addrs), metaValueMax)
	}
	if len(meta)+len(in.Metadata) > metaPairsMax {
		return nil, fmt.Errorf("discovery/consul: instance %s: %d metadata entries, more than the %d Consul keeps beside Titan's %d", in.ID, len(in.Metadata), metaPairsMax-len(meta), len(meta))
	}
	for _, k := range slices.Sorted(maps.Keys(in.Metadata)) {
		v := in.Metadata[k]
		// Consul refuses the whole registration otherwise, with a 400
		// that names neither the instance nor the key.
		switch {
		case !metaKey(k) || len("m_"+k) > metaKeyMax:
			return nil, fmt.Errorf("discovery/consul: instance %s: metadata key %q: Consul takes keys of letters, digits, '_' and '-', at most %d bytes", in.ID, k, metaKeyMax-len("m_"))
		case len(v) > metaValueMax:
			return nil, fmt.Errorf("discovery/consul: instance %s: metadata %q: its value has %d bytes, more than the %d Consul takes", in.ID, k, len(v), metaValueMax)
		}
		meta["m_"+k] = v
	}
	return &api.AgentServiceRegistration{
		ID: serviceID(in.ID), Name: in.Service, Tags: []string{"titan", "v" + in.Version}, Meta: meta,
		Check: &api.AgentServiceCheck{
			CheckID: checkID(in.ID), Name: "titan heartbeat", TTL: ttl.String(),
			DeregisterCriticalServiceAfter: "1m",
		},
	}, nil
}

// What Consul takes in a service's meta (its agent refuses the
// registration otherwise): 64 pairs, keys of at most 128 bytes of
// letters, digits, '_' and '-', values of at most 512 bytes.
const (
	metaPairsMax = 64
	metaKeyMax   = 128
	metaValueMax = 512
)

func metaKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Deregister implements discovery.Registry: an id the agent does not
// hold is not an error.
func (r *Registry) Deregister(ctx context.Context, id string) error {
	r.mu.Lock()
	delete(r.registered, id)
	r.mu.Unlock()
	err := r.c.Agent().ServiceDeregisterOpts(serviceID(id), (&api.QueryOptions{}).WithContext(ctx))
	if err == nil || unknownService(err) {
		return nil
	}
	return fmt.Errorf("discovery/consul: Deregister of %s: %w", id, err)
}

// unknownService reports whether err is the agent's answer to a service
// id it does not hold: 404 "Unknown service ID ...".
func unknownService(err error) bool {
	var se api.StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound && strings.HasPrefix(se.Body, "Unknown service")
}

// instance reads a service entry; one that is not a Titan instance is
// skipped, and logged unless the same fault of the entry was.
func (r *Registry) instance(e *api.ServiceEntry) (discovery.Instance, bool) {
	s := e.Service
	entry := s.ID
	if e.Node != nil {
		entry = e.Node.Node + "/" + s.ID
	}
	skip := func(msg string, err error) {
		r.bad.Warn(r.log, msg, entry, err.Error(), "service", s.Service, "id", s.ID, "error", err)
	}
	in := discovery.Instance{ID: s.Meta["titan_id"], Service: s.Service, Version: s.Meta["titan_version"], Health: discovery.Health(s.Meta["titan_health"])}
	if err := json.Unmarshal([]byte(s.Meta["titan_addrs"]), &in.Addrs); err != nil {
		skip("skipping a Consul service that is not a Titan instance", fmt.Errorf("titan_addrs: %w", err))
		return in, false
	}
	for k, v := range s.Meta {
		if name, ok := strings.CutPrefix(k, "m_"); ok {
			if in.Metadata == nil {
				in.Metadata = map[string]string{}
			}
			in.Metadata[name] = v
		}
	}
	err := in.Validate()
	if err == nil && serviceID(in.ID) != s.ID {
		err = fmt.Errorf("its id is not %q, the one Titan gives the instance %q", serviceID(in.ID), in.ID)
	}
	if err != nil {
		skip("skipping a Consul service that is not a valid Titan instance", err)
		return in, false
	}
	r.bad.Forget(entry)
	return in, true
}

// Discover implements discovery.Registry: the instances whose check is
// passing.
func (r *Registry) Discover(ctx context.Context, q discovery.Query) ([]discovery.Instance, error) {
	ins, _, err := r.read(ctx, q, 0)
	return ins, err
}

// read is Discover as a blocking query from index (0: at once).
func (r *Registry) read(ctx context.Context, q discovery.Query, index uint64) ([]discovery.Instance, uint64, error) {
	match, err := q.Matcher()
	if err != nil {
		return nil, 0, err
	}
	opts := (&api.QueryOptions{WaitIndex: index, WaitTime: max(r.ttl/3, time.Second)}).WithContext(ctx)
	entries, meta, err := r.c.Health().Service(q.Service, "titan", true, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("discovery/consul: read the instances of %s: %w", q.Service, err)
	}
	out := []discovery.Instance{}
	for _, e := range entries {
		if in, ok := r.instance(e); ok && match(in) {
			out = append(out, in)
		}
	}
	discovery.SortInstances(out)
	return out, meta.LastIndex, nil
}

// Watch implements discovery.Registry with blocking queries.
func (r *Registry) Watch(ctx context.Context, q discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(yield func([]discovery.Instance, error) bool) {
		if _, err := q.Matcher(); err != nil {
			yield(nil, err)
			return
		}
		var (
			index   uint64
			changes discovery.Changes
		)
		for ctx.Err() == nil {
			ins, next, err := r.read(ctx, q, index)
			if err != nil {
				if ctx.Err() != nil || !yield(nil, err) {
					return
				}
				select {
				case <-ctx.Done():
				case <-time.After(max(r.ttl/3, 100*time.Millisecond)):
				}
				index = 0
				continue
			}
			switch {
			case next < index: // the index went back (the agent restarted): read at once
				next = 0
			case next == 0:
				// An agent may answer 0; waiting on it would read at once,
				// again and again: Consul's documentation says to use 1.
				next = 1
			}
			index = next
			if changes.Changed(ins) && !yield(ins, nil) {
				return
			}
		}
	}
}

// Health implements discovery.Registry: the instance's reported health,
// unhealthy when its check is not passing. An instance the local agent
// does not hold is looked for in the cluster's catalog: it registered
// through the agent of another node.
//
// The agent's endpoint answers 200 for a passing check, 429 and 503 (with
// the same body) for the others, 404 for a service it does not hold;
// another answer (403 for a token without service:read) is the error.
// It is read here rather than with api's AgentHealthServiceByID, whose
// error for such an answer is the JSON syntax error of its body.
func (r *Registry) Health(ctx context.Context, id string) (discovery.Health, error) {
	var info api.AgentServiceChecksInfo
	_, err := r.c.Raw().Query("/v1/agent/health/service/id/"+serviceID(id), &info, (&api.QueryOptions{}).WithContext(ctx))
	var se api.StatusError
	switch {
	case err == nil && info.Service != nil:
		return discovery.Health(info.Service.Meta["titan_health"]), nil
	case errors.As(err, &se) && se.Code == http.StatusNotFound:
		return r.healthElsewhere(ctx, id)
	case errors.As(err, &se) && (se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable) &&
		json.Unmarshal([]byte(se.Body), &info) == nil && info.Service != nil:
		return discovery.Unhealthy, nil
	case err == nil:
		err = errors.New("the agent's answer holds no service")
	}
	return "", fmt.Errorf("consul: the health of instance %q: %w", id, err)
}

// healthElsewhere is Health of an instance of another node's agent: its
// check names its service, whose entries hold its health.
func (r *Registry) healthElsewhere(ctx context.Context, id string) (discovery.Health, error) {
	sid := serviceID(id)
	q := func() *api.QueryOptions {
		return (&api.QueryOptions{Filter: fmt.Sprintf("ServiceID == %q", sid)}).WithContext(ctx)
	}
	checks, _, err := r.c.Health().State(api.HealthAny, q())
	if err != nil {
		return "", fmt.Errorf("consul: the health of instance %q: %w", id, err)
	}
	i := slices.IndexFunc(checks, func(c *api.HealthCheck) bool { return c.ServiceID == sid && c.CheckID == checkID(id) })
	if i < 0 {
		return "", fmt.Errorf("%w: %q", discovery.ErrNotFound, id)
	}
	entries, _, err := r.c.Health().Service(checks[i].ServiceName, "titan", false, q())
	if err != nil {
		return "", fmt.Errorf("consul: the health of instance %q: %w", id, err)
	}
	for _, e := range entries {
		if e.Service == nil || e.Service.ID != sid {
			continue
		}
		if e.Checks.AggregatedStatus() != api.HealthPassing {
			return discovery.Unhealthy, nil
		}
		return discovery.Health(e.Service.Meta["titan_health"]), nil
	}
	return "", fmt.Errorf("%w: %q", discovery.ErrNotFound, id)
}

// Services implements discovery.Lister: the services with an instance
// whose check is passing, sorted. One whose instances all crashed leaves
// the list when their checks turn critical, as it leaves Discover, not
// when the agent removes them a minute later.
func (r *Registry) Services(ctx context.Context) ([]string, error) {
	checks, _, err := r.c.Health().State(api.HealthPassing, (&api.QueryOptions{Filter: `"titan" in ServiceTags`}).WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("discovery/consul: list the services: %w", err)
	}
	var out []string
	for _, c := range checks {
		if strings.HasPrefix(c.CheckID, "titan:") && c.ServiceName != "" && slices.Contains(c.ServiceTags, "titan") && !slices.Contains(out, c.ServiceName) {
			out = append(out, c.ServiceName)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Close implements discovery.Registry: it closes the client's idle
// connections.
func (r *Registry) Close() error {
	r.tr.CloseIdleConnections()
	return nil
}
