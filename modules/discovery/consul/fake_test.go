package consul_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// fakeAgent is an in-process stand-in for a Consul agent, serving exactly
// the endpoints the backend calls, with the agent's semantics for them:
// TTL checks turn critical when not passed in time, and the health and
// catalog reads are blocking queries on a change index. No Consul agent
// can run on the project's machines, so the backend is tested against it.
// Agents of other nodes of the same cluster join it ([fakeAgent.join]):
// the agent endpoints serve their own node's services, the health and
// catalog ones every node's.
type fakeAgent struct {
	srv *httptest.Server
	mux *http.ServeMux

	mu       sync.Mutex
	index    uint64
	reads    int // of /v1/health/service
	changed  chan struct{}
	services map[string]*fakeService // by service id
	stop     chan struct{}
	done     chan struct{}
}

type fakeService struct {
	node     string // of the agent it registered with
	reg      api.AgentServiceRegistration
	ttl      time.Duration
	status   string
	lastPass time.Time
}

func newFakeAgent(t *testing.T) *fakeAgent {
	f := &fakeAgent{index: 1, changed: make(chan struct{}), services: map[string]*fakeService{},
		stop: make(chan struct{}), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status/leader", func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode("127.0.0.1:8300") })
	mux.HandleFunc("PUT /v1/agent/service/register", f.register)
	mux.HandleFunc("PUT /v1/agent/service/deregister/{id}", f.deregister)
	mux.HandleFunc("PUT /v1/agent/check/update/{check}", f.update)
	mux.HandleFunc("GET /v1/health/service/{name}", f.health)
	mux.HandleFunc("GET /v1/agent/health/service/id/{id}", f.serviceHealth)
	mux.HandleFunc("GET /v1/catalog/services", f.catalog)
	mux.HandleFunc("GET /v1/health/state/{state}", f.state)
	f.srv, f.mux = httptest.NewServer(mux), mux
	go f.expire()
	t.Cleanup(func() {
		close(f.stop)
		<-f.done
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

func (f *fakeAgent) url() string { return f.srv.URL }

// nodeKey is the context key of the node of the agent a request is for.
type nodeKey struct{}

// nodeOf is the node of the agent r is for: "fake", or another that
// joined.
func nodeOf(r *http.Request) string {
	if n, ok := r.Context().Value(nodeKey{}).(string); ok {
		return n
	}
	return "fake"
}

// join starts the agent of another node of the cluster, and returns its
// URL.
func (f *fakeAgent) join(t *testing.T, node string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nodeKey{}, node)))
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

// bumpLocked records a change and wakes the blocking queries.
func (f *fakeAgent) bumpLocked() {
	f.index++
	close(f.changed)
	f.changed = make(chan struct{})
}

// expire turns the checks not passed within their TTL critical.
func (f *fakeAgent) expire() {
	defer close(f.done)
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-tk.C:
		}
		f.mu.Lock()
		for _, s := range f.services {
			if s.status == api.HealthPassing && time.Since(s.lastPass) > s.ttl {
				s.status = api.HealthCritical
				f.bumpLocked()
			}
		}
		f.mu.Unlock()
	}
}

func (f *fakeAgent) register(w http.ResponseWriter, r *http.Request) {
	var reg api.AgentServiceRegistration
	if err := json.NewDecoder(r.Body).Decode(&reg); err != nil || reg.Name == "" || reg.Check == nil {
		http.Error(w, "bad registration", http.StatusBadRequest)
		return
	}
	ttl, err := time.ParseDuration(reg.Check.TTL)
	if err != nil {
		http.Error(w, "bad TTL", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services[reg.ID] = &fakeService{node: nodeOf(r), reg: reg, ttl: ttl, status: api.HealthCritical} // TTL checks start critical
	f.bumpLocked()
}

func (f *fakeAgent) deregister(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.services[r.PathValue("id")]; !ok || s.node != nodeOf(r) {
		http.Error(w, "Unknown service ID", http.StatusNotFound)
		return
	}
	delete(f.services, r.PathValue("id"))
	f.bumpLocked()
}

func (f *fakeAgent) update(w http.ResponseWriter, r *http.Request) {
	var body struct{ Status, Output string }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.services {
		if s.reg.Check.CheckID == r.PathValue("check") && s.node == nodeOf(r) {
			if s.status != body.Status {
				s.status = body.Status
				f.bumpLocked()
			}
			s.lastPass = time.Now()
			return
		}
	}
	http.Error(w, `Unknown check ID "`+r.PathValue("check")+`"`, http.StatusNotFound)
}

// block waits, for a query with ?index=, until the index passes it or the
// wait time runs out; it returns with f.mu held.
func (f *fakeAgent) block(r *http.Request) {
	f.mu.Lock()
	idx, _ := strconv.ParseUint(r.URL.Query().Get("index"), 10, 64)
	wait, err := time.ParseDuration(r.URL.Query().Get("wait"))
	if err != nil || wait > time.Second {
		wait = time.Second
	}
	deadline := time.After(wait)
	for idx != 0 && f.index <= idx {
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			f.mu.Lock()
			return
		case <-r.Context().Done():
			f.mu.Lock()
			return
		}
		f.mu.Lock()
	}
}

func (f *fakeAgent) health(w http.ResponseWriter, r *http.Request) {
	f.block(r)
	defer f.mu.Unlock()
	f.reads++
	passing := r.URL.Query().Get("passing") != ""
	tag := r.URL.Query().Get("tag")
	out := []*api.ServiceEntry{}
	for id, s := range f.services {
		if s.reg.Name != r.PathValue("name") || passing && s.status != api.HealthPassing {
			continue
		}
		if tag != "" && !contains(s.reg.Tags, tag) {
			continue
		}
		out = append(out, &api.ServiceEntry{
			Node:    &api.Node{Node: s.node},
			Service: &api.AgentService{ID: id, Service: s.reg.Name, Tags: s.reg.Tags, Meta: s.reg.Meta},
			Checks:  api.HealthChecks{{CheckID: s.reg.Check.CheckID, Status: s.status}},
		})
	}
	w.Header().Set("X-Consul-Index", strconv.FormatUint(f.index, 10))
	json.NewEncoder(w).Encode(out)
}

func (f *fakeAgent) serviceHealth(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.services[r.PathValue("id")]
	if !ok || s.node != nodeOf(r) {
		http.Error(w, "ServiceId not found", http.StatusNotFound)
		return
	}
	code := http.StatusOK
	if s.status != api.HealthPassing {
		code = http.StatusServiceUnavailable
	}
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(api.AgentServiceChecksInfo{
		AggregatedStatus: s.status,
		Service:          &api.AgentService{ID: r.PathValue("id"), Service: s.reg.Name, Tags: s.reg.Tags, Meta: s.reg.Meta},
	})
}

func (f *fakeAgent) catalog(w http.ResponseWriter, r *http.Request) {
	f.block(r)
	defer f.mu.Unlock()
	out := map[string][]string{}
	for _, s := range f.services {
		out[s.reg.Name] = s.reg.Tags
	}
	w.Header().Set("X-Consul-Index", strconv.FormatUint(f.index, 10))
	json.NewEncoder(w).Encode(out)
}

// state lists the checks in the state (or any), the ?filter= ignored:
// the backend filters what it reads too.
func (f *fakeAgent) state(w http.ResponseWriter, r *http.Request) {
	f.block(r)
	defer f.mu.Unlock()
	out := api.HealthChecks{}
	for id, s := range f.services {
		if st := r.PathValue("state"); st != "any" && st != s.status {
			continue
		}
		out = append(out, &api.HealthCheck{Node: s.node, CheckID: s.reg.Check.CheckID, Status: s.status,
			ServiceID: id, ServiceName: s.reg.Name, ServiceTags: s.reg.Tags})
	}
	w.Header().Set("X-Consul-Index", strconv.FormatUint(f.index, 10))
	json.NewEncoder(w).Encode(out)
}

// kill forgets every service, as an agent that restarted without state.
func (f *fakeAgent) kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services = map[string]*fakeService{}
	f.bumpLocked()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
