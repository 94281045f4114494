package http

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/Masterminds/semver/v3"

	"github.com/titanframework/titan/modules/netron"
)

// rpcPrefix is the path under which every service has JSON routes:
// /rpc/<target>/<method>, the paths the original's OpenAPI document names
// (here they are routed).
const rpcPrefix = "/rpc/"

// serviceEntry is one service exposed on the gateway.
type serviceEntry struct {
	desc      netron.ServiceDesc
	qualified string
	methods   map[string]*methodEntry
	sv        *semver.Version
}

// methodEntry is one public method with what the routes need to know.
type methodEntry struct {
	svc  *serviceEntry
	desc netron.MethodDesc
	// objectArg: the method takes one argument whose schema is an object, so
	// a JSON route accepts that object as the whole body.
	objectArg bool
	// argSchemas are the schemas of the positional arguments (prefixItems),
	// nil when the input contract is not a tuple.
	argSchemas []json.RawMessage
}

// table is a snapshot of the services: by qualified name, by definition id,
// by name (highest version first), and the JSON routes by path.
type table struct {
	byQualified map[string]*serviceEntry
	byID        map[string]*serviceEntry
	byName      map[string][]*serviceEntry
	routes      map[string]*methodEntry // canonical JSON route path -> method
	services    []*serviceEntry         // sorted by qualified name
	count       int                     // services registered in the Netron
}

// routeTable keeps the current snapshot. Netron has no notification of a
// new service, so a lookup that misses refreshes the snapshot when the
// number of registered services changed (services are never removed).
type routeTable struct {
	describe func() []netron.ServiceDesc
	count    func() int
	scheme   string
	cur      atomic.Pointer[table]
	mu       sync.Mutex // serialises refreshes
}

func (rt *routeTable) get() *table {
	if t := rt.cur.Load(); t != nil {
		return t
	}
	return rt.refresh(true)
}

// refresh rebuilds the snapshot, when forced or when services were added.
func (rt *routeTable) refresh(force bool) *table {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if t := rt.cur.Load(); t != nil && !force && rt.count() == t.count {
		return t
	}
	t := buildTable(rt.describe(), rt.scheme)
	rt.cur.Store(t)
	return t
}

// exposedOn mirrors the engine's rule: no restriction, or the scheme listed.
func exposedOn(d *netron.ServiceDesc, scheme string) bool {
	return len(d.Transports) == 0 || slices.Contains(d.Transports, scheme)
}

func buildTable(descs []netron.ServiceDesc, scheme string) *table {
	t := &table{
		byQualified: map[string]*serviceEntry{},
		byID:        map[string]*serviceEntry{},
		byName:      map[string][]*serviceEntry{},
		routes:      map[string]*methodEntry{},
		count:       len(descs),
	}
	for _, d := range descs {
		if !exposedOn(&d, scheme) {
			continue
		}
		s := &serviceEntry{desc: d, qualified: netron.QualifiedName(d.Name, d.Version), methods: map[string]*methodEntry{}}
		s.sv, _ = semver.NewVersion(d.Version)
		for _, md := range d.Methods {
			m := &methodEntry{svc: s, desc: md}
			m.argSchemas = tupleItems(md.Input)
			if md.Arity == 1 && len(m.argSchemas) == 1 {
				m.objectArg = schemaIsObject(m.argSchemas[0])
			}
			s.methods[md.Name] = m
		}
		t.byQualified[s.qualified] = s
		t.byID[strings.ToLower(d.ID)] = s
		t.byName[d.Name] = append(t.byName[d.Name], s)
		t.services = append(t.services, s)
	}
	for _, list := range t.byName {
		slices.SortStableFunc(list, func(a, b *serviceEntry) int {
			switch {
			case a.sv == nil || b.sv == nil:
				return 0
			case a.sv.GreaterThan(b.sv):
				return -1
			case b.sv.GreaterThan(a.sv):
				return 1
			}
			return 0
		})
	}
	for _, s := range t.services {
		base := routeBase(s)
		for _, m := range s.methods {
			p := base + "/" + m.desc.Name
			if _, dup := t.routes[p]; !dup {
				t.routes[p] = m
			}
		}
	}
	return t
}

// names returns the qualified names of the services, sorted.
func (t *table) names() []string {
	out := make([]string, len(t.services))
	for i, s := range t.services {
		out[i] = s.qualified
	}
	return out
}

// methodNames returns the wire names of the service's methods, sorted.
func (s *serviceEntry) methodNames() []string {
	out := make([]string, len(s.desc.Methods))
	for i, m := range s.desc.Methods {
		out[i] = m.Name
	}
	slices.Sort(out)
	return out
}

// routeBase is where a service's JSON routes live: its titan.HTTP path, or
// /rpc/<name>@<version>.
func routeBase(s *serviceEntry) string {
	if p, _ := s.desc.Extensions[PathExtension].(string); p != "" {
		return strings.TrimSuffix(p, "/")
	}
	return rpcPrefix[:len(rpcPrefix)-1] + "/" + s.qualified
}

// resolve finds a service as the engine does: a definition id, an exact
// qualified name, the highest version matching a range, or the highest
// version of a bare name.
func (t *table) resolve(target string) *serviceEntry {
	if s := t.byQualified[target]; s != nil {
		return s
	}
	if len(target) == 36 {
		if s := t.byID[strings.ToLower(target)]; s != nil {
			return s
		}
	}
	tg, err := netron.ParseTarget(target)
	if err != nil {
		return nil
	}
	for _, s := range t.byName[tg.Name] {
		if tg.Matches(s.desc.Version) {
			return s
		}
	}
	return nil
}

// lookup resolves a service and method, refreshing the snapshot on a
// miss. A nil method with a non-nil service means the method is unknown.
func (rt *routeTable) lookup(service, method string) (*serviceEntry, *methodEntry) {
	s := rt.get().resolve(service)
	if s == nil || s.methods[method] == nil {
		s = rt.refresh(false).resolve(service)
	}
	if s == nil {
		return nil, nil
	}
	return s, s.methods[method]
}

// route finds the method of a JSON route path, refreshing the snapshot on
// a miss; see [table.route].
func (rt *routeTable) route(path string) (*methodEntry, *serviceEntry) {
	m, s := rt.get().route(path)
	if m == nil {
		m, s = rt.refresh(false).route(path)
	}
	return m, s
}

// route finds the method of a JSON route path: a canonical route
// (titan.HTTP path or /rpc/<name>@<version>), or /rpc/<target>/<method>
// with any target the engine resolves (bare name, range, definition id).
// A nil method with a non-nil service means the path is under that
// service's routes but names no method.
func (t *table) route(path string) (*methodEntry, *serviceEntry) {
	if m := t.routes[path]; m != nil {
		return m, m.svc
	}
	base, method, ok := cutLast(path)
	if !ok {
		return nil, nil
	}
	if target, ok := strings.CutPrefix(base, rpcPrefix); ok {
		if s := t.resolve(target); s != nil {
			return s.methods[method], s
		}
	}
	for _, s := range t.services {
		if routeBase(s) == base {
			return nil, s
		}
	}
	return nil, nil
}

// hasRoute reports whether path is a JSON route of a method.
func (t *table) hasRoute(path string) bool {
	m, _ := t.route(path)
	return m != nil
}

func cutLast(path string) (base, last string, ok bool) {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 || i == len(path)-1 {
		return "", "", false
	}
	return path[:i], path[i+1:], true
}

// tupleItems returns the prefixItems of a tuple input schema.
func tupleItems(input json.RawMessage) []json.RawMessage {
	var s struct {
		Type        any               `json:"type"`
		PrefixItems []json.RawMessage `json:"prefixItems"`
	}
	if json.Unmarshal(input, &s) != nil || s.Type != "array" {
		return nil
	}
	return s.PrefixItems
}

// schemaIsObject reports whether a schema describes JSON objects only, or
// objects and null (a pointer argument's).
func schemaIsObject(schema json.RawMessage) bool {
	var s struct {
		Type       any               `json:"type"`
		Properties json.RawMessage   `json:"properties"`
		AnyOf      []json.RawMessage `json:"anyOf"`
	}
	if json.Unmarshal(schema, &s) != nil {
		return false
	}
	if s.Type == nil && s.Properties == nil && len(s.AnyOf) == 2 {
		for i, b := range s.AnyOf {
			var n struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(b, &n) == nil && n.Type == "null" {
				return schemaIsObject(s.AnyOf[1-i])
			}
		}
	}
	switch t := s.Type.(type) {
	case string:
		return t == "object"
	case nil:
		return s.Properties != nil
	}
	return false
}
