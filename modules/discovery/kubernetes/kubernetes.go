// Package kubernetes is discovery's Kubernetes backend ("kubernetes", on
// k8s.io/client-go): import it and set discovery.backend: kubernetes and
// discovery.url: kubernetes://<namespace> in a pod.
//
// In Kubernetes the platform registers instances: a Titan service is
// found through the EndpointSlices labelled titan.io/service=<name> and
// titan.io/version=<version> (put the labels on the Kubernetes Service,
// which passes them to its slices), whose ports are named after the
// transport they carry (tcp, ws, http, ...). Each endpoint is an
// instance: ready is healthy, terminating is draining, otherwise
// unhealthy. A pod's instance has the id
// <namespace>/<pod>/<service>@<version>, one per Titan service it serves;
// an endpoint that names no pod has <slice>/<address>. Register and
// Deregister do nothing (the log says so once); Watch follows the slices.
package kubernetes

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/titanframework/titan/modules/discovery"
)

// The labels that select a Titan service's EndpointSlices.
const (
	ServiceLabel = "titan.io/service"
	VersionLabel = "titan.io/version"
)

func init() {
	discovery.RegisterBackend("kubernetes", func(ctx context.Context, c discovery.Config, log *slog.Logger) (discovery.Registry, error) {
		ns, ok := strings.CutPrefix(c.URL, "kubernetes://")
		if !ok || ns == "" {
			return nil, fmt.Errorf("discovery.url %q: want kubernetes://<namespace>", c.URL)
		}
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes: not running in a pod: %w", err)
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("kubernetes: %w", err)
		}
		return New(cs, strings.TrimSuffix(ns, "/"), log), nil
	})
}

// Registry finds instances in a namespace's EndpointSlices.
type Registry struct {
	cs   kubernetes.Interface
	ns   string
	log  *slog.Logger
	once sync.Once
}

var (
	_ discovery.Registry = (*Registry)(nil)
	_ discovery.Lister   = (*Registry)(nil)
)

// New returns the registry of namespace ns through cs (a clientset, or
// client-go's fake one in tests).
func New(cs kubernetes.Interface, ns string, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{cs: cs, ns: ns, log: log}
}

// Register implements discovery.Registry: the platform registers pods
// through their Service's EndpointSlices; this does nothing.
func (r *Registry) Register(context.Context, discovery.Instance) error {
	r.once.Do(func() {
		r.log.Info("in Kubernetes the platform registers instances: label the Service " + ServiceLabel + " and " + VersionLabel + " and name its ports after their transports")
	})
	return nil
}

// Deregister implements discovery.Registry; it does nothing.
func (r *Registry) Deregister(context.Context, string) error { return nil }

// Discover implements discovery.Registry.
func (r *Registry) Discover(ctx context.Context, q discovery.Query) ([]discovery.Instance, error) {
	match, err := q.Matcher()
	if err != nil {
		return nil, err
	}
	all, err := r.list(ctx, ServiceLabel+"="+q.Service)
	if err != nil {
		return nil, err
	}
	out := []discovery.Instance{}
	for _, in := range all {
		if match(in) {
			out = append(out, in)
		}
	}
	return out, nil
}

// list reads the instances of the slices the selector selects.
func (r *Registry) list(ctx context.Context, selector string) ([]discovery.Instance, error) {
	l, err := r.cs.DiscoveryV1().EndpointSlices(r.ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("kubernetes: list EndpointSlices %s in %s: %w", selector, r.ns, err)
	}
	var out []discovery.Instance
	at := map[[3]string]int{} // index in out, by service, version and id
	for i := range l.Items {
		for _, in := range r.instances(&l.Items[i]) {
			// A pod is listed by every slice of its Service that holds it
			// (a dual-stack Service has one per address family): one
			// instance, with the addresses of each, and the worse of
			// their states.
			k := [3]string{in.Service, in.Version, in.ID}
			j, seen := at[k]
			if !seen {
				at[k] = len(out)
				out = append(out, in)
				continue
			}
			prev := &out[j]
			for _, a := range in.Addrs {
				if !slices.Contains(prev.Addrs, a) {
					prev.Addrs = append(prev.Addrs, a)
				}
			}
			if healthRank(in.Health) > healthRank(prev.Health) {
				prev.Health = in.Health
			}
		}
	}
	discovery.SortInstances(out)
	return out, nil
}

// healthRank orders the states from the best (healthy) to the worst.
func healthRank(h discovery.Health) int {
	switch h {
	case discovery.Healthy:
		return 0
	case discovery.Draining:
		return 1
	}
	return 2
}

// instances reads a slice's endpoints; a slice without the labels or
// named ports is logged and skipped.
func (r *Registry) instances(s *discoveryv1.EndpointSlice) []discovery.Instance {
	service, version := s.Labels[ServiceLabel], s.Labels[VersionLabel]
	var out []discovery.Instance
	for _, ep := range s.Endpoints {
		if len(ep.Addresses) == 0 {
			continue
		}
		host := ep.Addresses[0]
		in := discovery.Instance{Service: service, Version: version, Health: discovery.Unhealthy}
		in.ID = s.Name + "/" + host
		if ep.TargetRef != nil && ep.TargetRef.Name != "" {
			// A pod may serve several Titan services (several Services
			// select it): one instance of each, told apart as the
			// instances of a Titan process are, by the service's
			// qualified name after the pod's.
			in.ID = ep.TargetRef.Namespace + "/" + ep.TargetRef.Name + "/" + service + "@" + version
		}
		switch c := ep.Conditions; {
		case c.Terminating != nil && *c.Terminating:
			in.Health = discovery.Draining
		case c.Ready == nil || *c.Ready:
			in.Health = discovery.Healthy
		}
		for _, p := range s.Ports {
			if p.Name == nil || *p.Name == "" || p.Port == nil {
				continue
			}
			scheme, _, _ := strings.Cut(*p.Name, "-") // "ws", "ws-public"
			addr := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(int(*p.Port)))
			if scheme == "ws" || scheme == "wss" {
				addr += "/"
			}
			in.Addrs = append(in.Addrs, addr)
		}
		if err := in.Validate(); err != nil {
			r.log.Warn("skipping an endpoint that is not a Titan instance", "slice", s.Name, "namespace", s.Namespace, "error", err)
			continue
		}
		out = append(out, in)
	}
	return out
}

// Watch implements discovery.Registry: it reads the slices again on every
// change Kubernetes reports. When the API server refuses the watch (RBAC
// forbids it, or it is out of reach), Watch gives the error and tries
// again after a pause, doubled while watching fails.
func (r *Registry) Watch(ctx context.Context, q discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(yield func([]discovery.Instance, error) bool) {
		if _, err := q.Matcher(); err != nil {
			yield(nil, err)
			return
		}
		var changes discovery.Changes
		pause := watchRetry
		for ctx.Err() == nil {
			cont, ready := r.watch(ctx, q, &changes, yield)
			if !cont {
				return
			}
			// The watch failed or ended: start again after a pause,
			// doubled while watching fails, up to watchRetryMax.
			if ready {
				pause = watchRetry
			}
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
			pause = min(2*pause, watchRetryMax)
		}
	}
}

// watchRetry is the first pause before watching again, watchRetryMax the
// longest.
const (
	watchRetry    = 100 * time.Millisecond
	watchRetryMax = 5 * time.Second
)

// watch follows one watch of the service's slices until it ends (cont)
// or the loop breaks (not cont); ready reports whether it got as far as
// reading the instances.
func (r *Registry) watch(ctx context.Context, q discovery.Query, changes *discovery.Changes, yield func([]discovery.Instance, error) bool) (cont, ready bool) {
	w, err := r.cs.DiscoveryV1().EndpointSlices(r.ns).Watch(ctx, metav1.ListOptions{LabelSelector: ServiceLabel + "=" + q.Service})
	if err != nil {
		return ctx.Err() == nil && yield(nil, fmt.Errorf("kubernetes: watch %s: %w", q.Service, err)), false
	}
	defer w.Stop()
	for {
		ins, err := r.Discover(ctx, q)
		if err != nil {
			return ctx.Err() == nil && yield(nil, err), ready
		}
		ready = true
		if changes.Changed(ins) && !yield(ins, nil) {
			return false, true
		}
		select {
		case <-ctx.Done():
			return false, true
		case _, open := <-w.ResultChan():
			if !open {
				return true, true // watch again
			}
		}
	}
}

// Health implements discovery.Registry.
func (r *Registry) Health(ctx context.Context, id string) (discovery.Health, error) {
	all, err := r.list(ctx, ServiceLabel)
	if err != nil {
		return "", err
	}
	for _, in := range all {
		if in.ID == id {
			return in.Health, nil
		}
	}
	return "", fmt.Errorf("%w: %q", discovery.ErrNotFound, id)
}

// Services implements discovery.Lister.
func (r *Registry) Services(ctx context.Context) ([]string, error) {
	all, err := r.list(ctx, ServiceLabel)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, in := range all {
		if !slices.Contains(out, in.Service) {
			out = append(out, in.Service)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Close implements discovery.Registry.
func (r *Registry) Close() error { return nil }
