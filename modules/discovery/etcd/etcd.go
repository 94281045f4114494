// Package etcd is discovery's etcd backend ("etcd", on
// go.etcd.io/etcd/client/v3): import it and set discovery.backend: etcd
// and discovery.url: etcd://host:2379 (several endpoints separated by
// commas: etcd://h1:2379,h2:2379).
//
// Each instance is a key, /<prefix>/discovery/instances/<service>/<id>,
// holding it as JSON and attached to a lease whose TTL is the instance's
// (etcd leases count in whole seconds, and a server may raise a short
// TTL to its minimum). A heartbeat keeps the lease alive and checks that
// the key is still on it, writing the key again when it is not (another
// process deregistered the id); one that finds the lease gone (expired,
// or the cluster lost it) grants a new one and writes the key again. An
// id registered again under another service moves: the key under the
// former service is deleted as the new one is written.
// Deregister and Health of an id this registry did not register look for
// the instance with that exact id. Watches follow the keys' changes,
// deletions by lease expiry included, and read the service again when the
// cluster's revision goes back (a cluster recreated or restored from a
// snapshot, which a resumed watch would not hear from until it caught up).
// An entry someone else wrote that is not an instance under its own key
// is skipped and logged (once, and again if its fault changes), never
// used.
package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/titanframework/titan/internal/logevery"
	"github.com/titanframework/titan/modules/discovery"
)

func init() {
	discovery.RegisterBackend("etcd", func(ctx context.Context, c discovery.Config, log *slog.Logger) (discovery.Registry, error) {
		return Open(ctx, c.URL, c.Prefix, c.TTL, log)
	})
}

// Registry is a discovery.Registry in etcd.
type Registry struct {
	c    *clientv3.Client
	root string // /<prefix>/discovery/instances/
	ttl  time.Duration
	log  *slog.Logger

	mu     sync.Mutex
	leases map[string]registered // by instance id

	bad logevery.Faults // the malformed entries logged, by key
}

type registered struct {
	lease clientv3.LeaseID
	key   string
	value string
}

var (
	_ discovery.Registry = (*Registry)(nil)
	_ discovery.Lister   = (*Registry)(nil)
)

// Open connects to the etcd cluster at url (etcd://host:2379[,host:2379],
// default etcd://127.0.0.1:2379) and checks that it answers.
func Open(ctx context.Context, url, prefix string, ttl time.Duration, log *slog.Logger) (*Registry, error) {
	if url == "" {
		url = "etcd://127.0.0.1:2379"
	}
	rest, ok := strings.CutPrefix(url, "etcd://")
	if !ok || rest == "" {
		return nil, fmt.Errorf("discovery.url %q: want etcd://host:port[,host:port]", url)
	}
	var endpoints []string
	for _, e := range strings.Split(strings.TrimSuffix(rest, "/"), ",") {
		endpoints = append(endpoints, "http://"+e)
	}
	if prefix == "" {
		prefix = "titan"
	}
	if ttl <= 0 {
		ttl = discovery.DefaultConfig().TTL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("etcd at %s: %w", discovery.RedactURL(url), err)
	}
	if err := answers(ctx, c, endpoints); err != nil {
		c.Close()
		return nil, fmt.Errorf("etcd at %s does not answer: %w", discovery.RedactURL(url), err)
	}
	return &Registry{c: c, root: "/" + prefix + "/discovery/instances/", ttl: ttl, log: log,
		leases: map[string]registered{}}, nil
}

// answers checks that one of the endpoints answers, asking them all at
// once (a member of the cluster may be down: the others serve), within
// 5 s; when none does, the error names each with its error.
func answers(ctx context.Context, c *clientv3.Client, endpoints []string) error {
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	errs := make(chan error, len(endpoints))
	for _, e := range endpoints {
		go func() {
			_, err := c.Status(sctx, e)
			if err != nil {
				err = fmt.Errorf("%s: %w", e, err)
			}
			errs <- err
		}()
	}
	var all []error
	for range endpoints {
		err := <-errs
		if err == nil {
			return nil // the others end with sctx
		}
		all = append(all, err)
	}
	return errors.Join(all...)
}

func (r *Registry) key(service, id string) string { return r.root + service + "/" + id }

// ttlSeconds is the lease TTL: the registry's, in whole seconds.
func (r *Registry) ttlSeconds() int64 { return int64(math.Ceil(r.ttl.Seconds())) }

// Register implements discovery.Registry: the first call grants a lease
// and writes the key; later ones keep the lease alive, and write the key
// again when the instance changed, the key is gone (someone deleted it)
// or the lease was lost. An instance registered again under another
// service leaves the key of the first in the same transaction.
func (r *Registry) Register(ctx context.Context, in discovery.Instance) error {
	if err := in.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if err := discovery.CheckEntry(in, b); err != nil {
		return err
	}
	if err := r.register(ctx, in.ID, r.key(in.Service, in.ID), string(b)); err != nil {
		return fmt.Errorf("etcd: Register of %s: %w", in.ID, err)
	}
	return nil
}

// register is Register of the instance id, whose key k holds v.
func (r *Registry) register(ctx context.Context, id, k, v string) error {
	r.mu.Lock()
	reg, ok := r.leases[id]
	r.mu.Unlock()
	if ok {
		if _, err := r.c.KeepAliveOnce(ctx, reg.lease); err == nil {
			if reg.key == k && reg.value == v {
				held, err := r.holds(ctx, k, reg.lease)
				if err != nil || held {
					return err
				}
				r.log.Warn("an instance's key was gone from its lease: writing it again", "key", k)
			}
			return r.write(ctx, id, registered{lease: reg.lease, key: k, value: v}, reg.key)
		} else if ctx.Err() != nil {
			return err
		}
		// The lease is gone: grant another.
	}
	lease, err := r.c.Grant(ctx, r.ttlSeconds())
	if err != nil {
		return err
	}
	return r.write(ctx, id, registered{lease: lease.ID, key: k, value: v}, reg.key)
}

// write puts the instance's key on its lease and deletes old, the key it
// had before (when another: it was of another service), in one
// transaction, and remembers it.
func (r *Registry) write(ctx context.Context, id string, reg registered, old string) error {
	ops := []clientv3.Op{clientv3.OpPut(reg.key, reg.value, clientv3.WithLease(reg.lease))}
	if old != "" && old != reg.key {
		ops = append(ops, clientv3.OpDelete(old))
	}
	if _, err := r.c.Txn(ctx).Then(ops...).Commit(); err != nil {
		return err
	}
	r.remember(id, reg)
	return nil
}

// holds reports whether the key exists on the lease: a key that is gone,
// or that someone wrote on another lease or none, is not held. It reads
// the key's metadata only, not its value.
func (r *Registry) holds(ctx context.Context, key string, lease clientv3.LeaseID) (bool, error) {
	resp, err := r.c.Get(ctx, key, clientv3.WithKeysOnly())
	if err != nil {
		return false, err
	}
	return len(resp.Kvs) == 1 && clientv3.LeaseID(resp.Kvs[0].Lease) == lease, nil
}

func (r *Registry) remember(id string, reg registered) {
	r.mu.Lock()
	r.leases[id] = reg
	r.mu.Unlock()
}

// Deregister implements discovery.Registry.
func (r *Registry) Deregister(ctx context.Context, id string) error {
	if err := r.deregister(ctx, id); err != nil {
		return fmt.Errorf("etcd: Deregister of %s: %w", id, err)
	}
	return nil
}

// deregister is Deregister.
func (r *Registry) deregister(ctx context.Context, id string) error {
	r.mu.Lock()
	reg, ok := r.leases[id]
	delete(r.leases, id)
	r.mu.Unlock()
	if !ok {
		// Not registered here: delete the keys that hold the id.
		found, err := r.find(ctx, id)
		if err != nil {
			return err
		}
		for _, in := range found {
			if _, err := r.c.Delete(ctx, r.key(in.Service, in.ID)); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := r.c.Revoke(ctx, reg.lease); err != nil {
		_, err = r.c.Delete(ctx, reg.key)
		return err
	}
	return nil
}

// decode reads a key's value; a malformed one is skipped, and logged
// unless the same fault of the key was (every read meets it again).
func (r *Registry) decode(key, value []byte) (discovery.Instance, bool) {
	in, err := discovery.DecodeInstance(value)
	if err != nil {
		r.skip("skipping a registry entry that is not a valid instance", string(key), err.Error(), "error", err)
		return in, false
	}
	if r.key(in.Service, in.ID) != string(key) {
		r.skip("skipping a registry entry that is an instance of another id or service than its key's", string(key), in.Service+"/"+in.ID, "instance", in.ID, "service", in.Service)
		return in, false
	}
	r.bad.Forget(string(key))
	return in, true
}

// skip logs an entry (at key) that a read skipped, with args, unless the
// same fault of the entry was logged already.
func (r *Registry) skip(msg, key, fault string, args ...any) {
	r.bad.Warn(r.log, msg, key, fault, append([]any{"key", key}, args...)...)
}

// find returns the instances whose id is id, whatever their service. The
// key holds the service as well as the id, and an id may itself hold
// slashes (app1/users@1.0.0), so every entry is read and matched by the
// instance it holds; [Registry.decode] has checked that its key is the
// instance's own.
func (r *Registry) find(ctx context.Context, id string) ([]discovery.Instance, error) {
	resp, err := r.c.Get(ctx, r.root, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.root, err)
	}
	var out []discovery.Instance
	for _, kv := range resp.Kvs {
		if in, ok := r.decode(kv.Key, kv.Value); ok && in.ID == id {
			out = append(out, in)
		}
	}
	return out, nil
}

// Discover implements discovery.Registry.
func (r *Registry) Discover(ctx context.Context, q discovery.Query) ([]discovery.Instance, error) {
	match, err := q.Matcher()
	if err != nil {
		return nil, err
	}
	resp, err := r.c.Get(ctx, r.root+q.Service+"/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("etcd: read %s: %w", r.root+q.Service+"/", err)
	}
	out := []discovery.Instance{}
	for _, kv := range resp.Kvs {
		if in, ok := r.decode(kv.Key, kv.Value); ok && match(in) {
			out = append(out, in)
		}
	}
	discovery.SortInstances(out)
	return out, nil
}

// Watch implements discovery.Registry.
func (r *Registry) Watch(ctx context.Context, q discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(yield func([]discovery.Instance, error) bool) {
		match, err := q.Matcher()
		if err != nil {
			yield(nil, err)
			return
		}
		prefix := r.root + q.Service + "/"
		var changes discovery.Changes
		emit := func(entries map[string]discovery.Instance) bool {
			snap := []discovery.Instance{}
			for _, in := range entries {
				if match(in) {
					snap = append(snap, in)
				}
			}
			discovery.SortInstances(snap)
			return !changes.Changed(snap) || yield(snap, nil)
		}
		for ctx.Err() == nil {
			resp, err := r.c.Get(ctx, prefix, clientv3.WithPrefix())
			if err != nil {
				if ctx.Err() != nil || !yield(nil, fmt.Errorf("etcd: read %s: %w", prefix, err)) {
					return
				}
				pause(ctx, r.ttl/3)
				continue
			}
			entries := map[string]discovery.Instance{}
			for _, kv := range resp.Kvs {
				if in, ok := r.decode(kv.Key, kv.Value); ok {
					entries[string(kv.Key)] = in
				}
			}
			if !emit(entries) {
				return
			}
			rev := resp.Header.Revision
			wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
			wch := r.c.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
			check := time.NewTicker(max(r.ttl/3, 10*time.Millisecond))
		watch:
			for {
				select {
				case wr, ok := <-wch:
					if !ok || wr.Err() != nil {
						break watch
					}
					rev = max(rev, wr.Header.Revision)
					for _, ev := range wr.Events {
						k := string(ev.Kv.Key)
						if ev.Type == clientv3.EventTypeDelete {
							delete(entries, k)
							r.bad.Forget(k)
						} else if in, ok := r.decode(ev.Kv.Key, ev.Kv.Value); ok {
							entries[k] = in
						} else {
							delete(entries, k)
						}
					}
					if !emit(entries) {
						check.Stop()
						cancel()
						return
					}
				case <-check.C:
					// A cluster recreated empty, or restored from an older
					// snapshot, counts its revisions from below the watch's:
					// the client resumes the watch at a revision the cluster
					// has not reached, and it would hear nothing until then.
					cr, err := r.c.Get(wctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
					if err == nil && cr.Header.Revision < rev {
						r.log.Warn("the etcd cluster's revision went back (recreated or restored): reading the service again", "prefix", prefix, "revision", cr.Header.Revision, "watched", rev)
						break watch
					}
				}
			}
			check.Stop()
			cancel()
			pause(ctx, r.ttl/3) // the watch ended: read again
		}
	}
}

func pause(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Health implements discovery.Registry.
func (r *Registry) Health(ctx context.Context, id string) (discovery.Health, error) {
	found, err := r.find(ctx, id)
	if err != nil {
		return "", fmt.Errorf("etcd: Health of %s: %w", id, err)
	}
	if len(found) == 0 {
		return "", fmt.Errorf("%w: %q", discovery.ErrNotFound, id)
	}
	return found[0].Health, nil
}

// Services implements discovery.Lister: the services with a valid
// instance (a key that holds none, written by someone else, names no
// service and is logged, as Discover skips it).
func (r *Registry) Services(ctx context.Context) ([]string, error) {
	resp, err := r.c.Get(ctx, r.root, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("etcd: list the services: read %s: %w", r.root, err)
	}
	var out []string
	for _, kv := range resp.Kvs {
		if in, ok := r.decode(kv.Key, kv.Value); ok && !slices.Contains(out, in.Service) {
			out = append(out, in.Service)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Close implements discovery.Registry.
func (r *Registry) Close() error {
	err := r.c.Close()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
