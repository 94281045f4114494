// Package nats is discovery's NATS backend ("nats", on nats.go's
// JetStream key-value store): import it and set discovery.backend: nats
// and discovery.url: nats://host:4222, or nats.embedded: true (with
// package discovery/nats/embedded imported) for the machine's embedded
// server.
//
// The instances live in the bucket <prefix>_discovery, one key per
// instance (<service>.<base64url of its id>) holding it as JSON with its
// writer's time to live ("ttlMs": discovery.ttl). Every heartbeat writes
// a new revision; an entry whose last revision is older than its own time
// to live is not live, for every reader whatever its own discovery.ttl,
// and Watch drops it (servers before 2.11 send watchers no marker when a
// key ages out). The bucket's age limit removes such entries: the apps of
// a prefix share the bucket, so an app raises the limit to its
// discovery.ttl when it is shorter, and never lowers it, when it opens the
// bucket, again whenever its connection comes back (the server may have
// restarted without its JetStream store, and another app made the bucket
// again with a shorter ttl), and whenever it hears (JetStream's advisory)
// that the bucket's configuration changed (two apps that raise the limit
// at once may leave the shorter ttl of the two). A heartbeat that finds
// the bucket gone creates it again; the apps that hear of it (JetStream's
// advisory) raise its limit in the same way, and watch it again.
//
// An id registered under another service than before moves: the new
// entry is written, then the id's entries under other services are
// deleted, each only if it is still the revision that was read (JetStream
// KV changes one key at a time, so the move is two steps, in the order
// that never leaves the instance out of the registry). The registry looks
// for such entries at an id's first registration and when its service
// changes, not at every heartbeat: a process that restarted with its
// service renamed removes the entry its predecessor left, and two live
// processes that register one id under two services do not take turns
// deleting each other's entry.
//
// An entry someone else wrote that is not an instance under its own key
// is skipped and logged (once, and again if its fault changes), never
// used.
package nats

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/titanframework/titan/internal/logevery"
	"github.com/titanframework/titan/modules/discovery"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
)

func init() {
	discovery.RegisterBackend("nats", func(ctx context.Context, c discovery.Config, log *slog.Logger) (discovery.Registry, error) {
		if c.App != nil {
			nc, err := natstransport.SectionOf(c.App)
			if err != nil {
				return nil, err
			}
			if nc.Embedded.Enabled {
				if c.URL != "" {
					return nil, fmt.Errorf("discovery.url %q and nats.embedded: both say where the NATS server is; set one", c.URL)
				}
				if openEmbedded == nil {
					return nil, natstransport.ErrEmbeddedNotLinked
				}
				return openEmbedded(ctx, nc.Embedded.PortOrDefault(), c.Prefix, c.TTL, log)
			}
		}
		return Open(ctx, c.URL, c.Prefix, c.TTL, log)
	})
}

// EmbeddedOpener opens the registry in the machine's embedded NATS server
// on 127.0.0.1:port, hosting the server when no process of the machine
// does (package discovery/nats/embedded).
type EmbeddedOpener func(ctx context.Context, port int, prefix string, ttl time.Duration, log *slog.Logger) (discovery.Registry, error)

// openEmbedded is the EmbeddedOpener, nil unless package
// discovery/nats/embedded is linked.
var openEmbedded EmbeddedOpener

// RegisterEmbedded makes discovery.backend: nats with nats.embedded: true
// open registries with open. It is meant for the init function of package
// discovery/nats/embedded, which links nats-server, so that programs that
// do not import it do not; a second call panics.
func RegisterEmbedded(open EmbeddedOpener) {
	if openEmbedded != nil || open == nil {
		panic("discovery/nats.RegisterEmbedded: called twice or with nil")
	}
	openEmbedded = open
}

// Registry is a discovery.Registry in a NATS JetStream key-value bucket.
type Registry struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	bucket string
	prefix string
	ttl    time.Duration
	log    *slog.Logger

	// mu guards kv, and orders the bucket's opening (see open).
	mu ctxMutex
	kv jetstream.KeyValue

	bad logevery.Faults // the malformed entries logged, by key

	// regs are the entries this registry registered, by instance id,
	// written again as soon as the connection comes back (perhaps to a
	// new, empty server) rather than at the next heartbeat.
	regsMu sync.Mutex
	regs   map[string]registration
	// writeMu orders the writes of the entries in regs: Register's, the
	// write-back after a reconnection (see renew), and Deregister's
	// delete, each with its change to regs. The write-back writes an entry as regs
	// holds it under this lock, so that it never brings back an entry
	// deregistered, or one replaced, since it collected the ids.
	writeMu ctxMutex
	// life ends with Close, and with it the write-back that follows a
	// reconnection or a change of the bucket.
	life context.Context
	end  context.CancelFunc
	// back is closed, and replaced, when the connection comes back or
	// the bucket is made again: the watchers watch again rather than
	// trust a consumer of the old server, or of the deleted bucket.
	back chan struct{}

	// afterCollect, when set (by a test), runs in renew between
	// collecting the entries to write again and writing them.
	afterCollect func()
	// beforeRaise, when set (by a test), runs in raiseAge between
	// reading the bucket's configuration and writing it (under mu).
	beforeRaise func()
	// watchRetry is the first pause before watching again (a test sets
	// a longer one to reach a long pause in few steps).
	watchRetry time.Duration
}

var (
	_ discovery.Registry = (*Registry)(nil)
	_ discovery.Lister   = (*Registry)(nil)
)

// connectTimeout is how long connecting to a server may take: 5s, or
// less when ctx ends sooner (nats.Connect takes no context, and would
// hold a start or a command past its deadline for a server that accepts
// and never answers).
func connectTimeout(ctx context.Context) time.Duration {
	d := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, max(time.Until(dl), time.Millisecond))
	}
	return d
}

// Open connects to the NATS server at url (default nats://127.0.0.1:4222)
// and opens, or creates, the bucket <prefix>_discovery whose entries live
// ttl. log receives what the registry notices (entries skipped as
// malformed, the bucket created again).
func Open(ctx context.Context, url, prefix string, ttl time.Duration, log *slog.Logger) (*Registry, error) {
	if url == "" {
		url = nats.DefaultURL
	}
	nc, err := nats.Connect(url, nats.Name("titan-discovery"), nats.MaxReconnects(-1), nats.Timeout(connectTimeout(ctx)),
		nats.ReconnectWait(250*time.Millisecond))
	if err != nil {
		if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
			err = fmt.Errorf("%w (%w)", context.DeadlineExceeded, err) // the time was ctx's
		}
		return nil, fmt.Errorf("nats at %s: %w", discovery.RedactURL(url), err)
	}
	r, err := OpenConn(ctx, nc, prefix, ttl, log)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats at %s: %w", discovery.RedactURL(url), err)
	}
	return r, nil
}

// OpenConn is Open on a connection of the caller's (the embedded-server
// backend's); the Registry closes it on Close. It adds its own work to
// the connection's reconnect handler (after the caller's).
func OpenConn(ctx context.Context, nc *nats.Conn, prefix string, ttl time.Duration, log *slog.Logger) (*Registry, error) {
	if prefix == "" {
		prefix = "titan"
	}
	if ttl <= 0 {
		ttl = discovery.DefaultConfig().TTL
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	r := &Registry{nc: nc, js: js, bucket: prefix + "_discovery", prefix: prefix, ttl: ttl, log: log,
		regs: map[string]registration{}, back: make(chan struct{}), watchRetry: watchRetry, mu: newCtxMutex("the registry's opening of its bucket"),
		writeMu: newCtxMutex("the registry's other writes (a Register, a Deregister, or the write-back of its entries after a reconnection)")}
	r.life, r.end = context.WithCancel(context.Background())
	if _, err := r.store(ctx, false); err != nil {
		return nil, fmt.Errorf("bucket %s: %w (is JetStream enabled?)", r.bucket, err)
	}
	// A bucket deleted while the connection stays up, and made again by a
	// heartbeat (of this app or another), is news the connection does not
	// bring: JetStream's advisory that the bucket's stream was created is.
	// The registry then does what it does when the connection comes back:
	// the watchers' consumers were on the deleted stream, and the app that
	// made the bucket again may have a shorter ttl. (Without the
	// permission to hear advisories, this waits for the next reconnection.)
	if _, err := nc.Subscribe(streamCreated+"KV_"+r.bucket, func(*nats.Msg) { r.renew("after the bucket was made again") }); err != nil {
		return nil, fmt.Errorf("bucket %s: hearing that it is made again: %w", r.bucket, err)
	}
	// Two apps that raise the age limit at once each write the limit
	// they read with their own ttl: the one that read before the other
	// wrote lowers it again. JetStream updates a stream's configuration
	// without a revision to compare, so each app hears of every update
	// (JetStream's advisory) and raises the limit again when it is below
	// its ttl, writing its entries again (a lower limit may have removed
	// them).
	if _, err := nc.Subscribe(streamUpdated+"KV_"+r.bucket, func(*nats.Msg) { r.updated() }); err != nil {
		return nil, fmt.Errorf("bucket %s: hearing that its age limit changed: %w", r.bucket, err)
	}
	prev := nc.Opts.ReconnectedCB
	nc.SetReconnectHandler(func(c *nats.Conn) {
		if prev != nil {
			prev(c)
		}
		r.reconnected()
	})
	return r, nil
}

// streamCreated is the subject of JetStream's advisories that a stream was
// created, less the stream's name.
const streamCreated = "$JS.EVENT.ADVISORY.STREAM.CREATED."

// streamUpdated is the subject of JetStream's advisories that a stream's
// configuration changed, less the stream's name.
const streamUpdated = "$JS.EVENT.ADVISORY.STREAM.UPDATED."

// updated runs when the bucket's configuration changed: another app may
// have lowered its age limit below this registry's ttl (see OpenConn),
// which renew raises again.
func (r *Registry) updated() {
	ctx, cancel := context.WithTimeout(r.life, reregisterTimeout)
	defer cancel()
	kv, err := r.store(ctx, false)
	if err != nil {
		return
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return
	}
	if age := st.TTL(); age > 0 && age < r.ttl {
		r.renew("after another app lowered the bucket's age limit")
	}
}

// reconnected runs on nats.go's callback goroutine when the connection is
// back: the server may be a new one, whose bucket is missing (it is
// created) or was made again by another app of a shorter ttl (see renew).
func (r *Registry) reconnected() { r.renew("after reconnecting") }

// renew wakes the watchers and writes this registry's entries again, on a
// budget of reregisterTimeout, in the bucket opened again: it may be
// missing (it is created) or made again by another app of a shorter ttl
// (its age limit is raised, see open). after says when, for the log.
func (r *Registry) renew(after string) {
	r.regsMu.Lock()
	close(r.back)
	r.back = make(chan struct{})
	writes := len(r.regs) > 0
	r.regsMu.Unlock()
	if !writes {
		return
	}
	octx, ocancel := context.WithTimeout(r.life, reregisterTimeout)
	err := r.reopen(octx)
	ocancel()
	if err != nil {
		// The entries are written all the same (put makes a missing
		// bucket): only the age limit waits for the next reconnection.
		r.log.Warn("could not open the discovery bucket again "+after, "bucket", r.bucket, "error", err)
	}
	ctx, cancel := context.WithTimeout(r.life, reregisterTimeout)
	defer cancel()
	// The ids registered now, after the bucket opened: each entry is
	// written as it is when its turn comes (see writeBack).
	r.regsMu.Lock()
	ids := slices.Collect(maps.Keys(r.regs))
	r.regsMu.Unlock()
	if len(ids) == 0 {
		return
	}
	if r.afterCollect != nil {
		r.afterCollect()
	}
	written := 0
	for _, id := range ids {
		ok, err := r.writeBack(ctx, id)
		if err != nil {
			r.log.Warn("could not register again "+after+"; the next heartbeat retries", "bucket", r.bucket, "instance", id, "error", err)
			return
		}
		if ok {
			written++
		}
	}
	r.log.Info("registered again "+after, "bucket", r.bucket, "entries", written)
}

// writeBack writes the id's entry again as regs holds it now, and
// reports whether it did: a Deregister or Register that ran since the
// ids were collected is not undone, since they hold writeMu too.
func (r *Registry) writeBack(ctx context.Context, id string) (bool, error) {
	if err := r.writeMu.Lock(ctx, "write back "+id); err != nil {
		return false, err
	}
	defer r.writeMu.Unlock()
	r.regsMu.Lock()
	reg, ok := r.regs[id]
	r.regsMu.Unlock()
	if !ok {
		return false, nil
	}
	return true, r.put(ctx, reg.key, reg.value)
}

// ctxMutex is a mutex whose Lock gives up when its context ends, for
// locks held over calls to the server: an app that stops is not held by
// a write to a server that does not answer.
type ctxMutex struct {
	ch chan struct{}
	// holders says who holds the lock, for the error of a Lock that gave
	// up ("the registry's ...").
	holders string
}

// newCtxMutex returns an unlocked ctxMutex held by holders.
func newCtxMutex(holders string) ctxMutex {
	return ctxMutex{ch: make(chan struct{}, 1), holders: holders}
}

// Lock locks m for op (what the caller does, for the error), or returns
// an error that names op and what it waited for, and wraps ctx's error,
// when ctx ends first.
func (m ctxMutex) Lock(ctx context.Context, op string) error {
	select {
	case m.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("discovery/nats: %s: waiting for %s: %w", op, m.holders, ctx.Err())
	}
}

// Unlock unlocks m.
func (m ctxMutex) Unlock() { <-m.ch }

// reregisterTimeout bounds the registration that follows a reconnection.
const reregisterTimeout = 2 * time.Second

// backSignal returns the channel closed when the connection next comes
// back, or the bucket is next made again.
func (r *Registry) backSignal() <-chan struct{} {
	r.regsMu.Lock()
	defer r.regsMu.Unlock()
	return r.back
}

// store returns the bucket, created (again, when recreate) if needed.
func (r *Registry) store(ctx context.Context, recreate bool) (jetstream.KeyValue, error) {
	if err := r.mu.Lock(ctx, "open the bucket "+r.bucket); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	if r.kv != nil && !recreate {
		return r.kv, nil
	}
	kv, err := r.open(ctx)
	if err != nil {
		return nil, err
	}
	if recreate {
		r.log.Warn("the discovery bucket was gone; created it again", "bucket", r.bucket)
	}
	r.kv = kv
	return kv, nil
}

// reopen opens the bucket again (see open), for a server that may be a
// new one.
func (r *Registry) reopen(ctx context.Context) error {
	if err := r.mu.Lock(ctx, "open the bucket "+r.bucket+" again"); err != nil {
		return err
	}
	defer r.mu.Unlock()
	kv, err := r.open(ctx)
	if err != nil {
		return err
	}
	r.kv = kv
	return nil
}

// open opens the bucket, creating it when it is missing. The bucket is
// shared by every app of the prefix, and by readers such as titan
// services: its age limit, the longest time an entry is kept, is raised
// to this registry's ttl when it is shorter and never lowered, so that no
// opener makes other apps' entries age out between their heartbeats.
// (Whether an entry is live is its own ttl's question: see entry.) A
// bucket it creates refuses entries longer than discovery.MaxEntryBytes.
func (r *Registry) open(ctx context.Context) (jetstream.KeyValue, error) {
	// The bucket refuses an entry longer than discovery.MaxEntryBytes,
	// which every reader would skip: a server whose max_payload is
	// raised beyond it would otherwise have every reader download such
	// an entry, on every read, before skipping it.
	cfg := jetstream.KeyValueConfig{
		Bucket: r.bucket, TTL: r.ttl, History: 1, Description: "Titan service instances (modules/discovery/nats)",
		MaxValueSize: discovery.MaxEntryBytes,
	}
	kv, err := r.js.KeyValue(ctx, r.bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = r.js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) { // another app made it meanwhile
			kv, err = r.js.KeyValue(ctx, r.bucket)
		}
	}
	if err != nil {
		return nil, err
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, err
	}
	if age := st.TTL(); age > 0 && age < r.ttl {
		if kv, err = r.raiseAge(ctx); err != nil {
			return nil, fmt.Errorf("raising the age limit of the bucket from %v to %v (discovery.ttl): %w", age, r.ttl, err)
		}
		r.log.Info("raised the age limit of the discovery bucket to this app's discovery.ttl", "bucket", r.bucket, "from", age, "to", r.ttl)
	}
	return kv, nil
}

// raiseAge sets the age limit of the bucket's stream to the registry's
// ttl, and changes nothing else of it: the bucket is shared, and may have
// been made by an operator (history, size limits, replicas, storage).
func (r *Registry) raiseAge(ctx context.Context) (jetstream.KeyValue, error) {
	s, err := r.js.Stream(ctx, "KV_"+r.bucket)
	if err != nil {
		return nil, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	sc := info.Config
	if r.beforeRaise != nil {
		r.beforeRaise()
	}
	sc.MaxAge = r.ttl
	if _, err := r.js.UpdateStream(ctx, sc); err != nil {
		return nil, err
	}
	return r.js.KeyValue(ctx, r.bucket)
}

// key is the key of an instance: its service, then its id in base64url
// (ids hold characters keys may not).
func key(service, id string) string {
	return service + "." + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// anyService is the key filter that matches the id's entry under every
// service.
func anyService(id string) string {
	return key("*", id)
}

// registration is an entry this registry wrote.
type registration struct {
	key   string
	value []byte
	// alone reports that, since the entry was first written under this
	// key, the registry looked for entries of its id under other
	// services and deleted them (or left those written again since it
	// read them).
	alone bool
}

// Register implements discovery.Registry: a new revision of the entry,
// which also restarts its age. At the id's first registration here, and
// when its service changed, Register then deletes the id's entries under
// other services; one written again since Register read it is left to
// its writer, and logged.
func (r *Registry) Register(ctx context.Context, in discovery.Instance) error {
	if err := in.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(stored{Instance: in, TTL: r.ttl.Milliseconds()})
	if err != nil {
		return err
	}
	if err := discovery.CheckEntry(in, b); err != nil {
		return err
	}
	k := key(in.Service, in.ID)
	if err := r.writeMu.Lock(ctx, "Register of "+in.ID); err != nil {
		return err
	}
	r.regsMu.Lock()
	prev, ok := r.regs[in.ID]
	alone := ok && prev.key == k && prev.alone
	r.regs[in.ID] = registration{key: k, value: b, alone: alone}
	r.regsMu.Unlock()
	err = r.put(ctx, k, b)
	r.writeMu.Unlock()
	if err != nil || alone {
		return err
	}
	if err := r.leaveOtherServices(ctx, in.ID, k); err != nil {
		return err
	}
	r.regsMu.Lock()
	if reg, ok := r.regs[in.ID]; ok && reg.key == k {
		reg.alone = true
		r.regs[in.ID] = reg
	}
	r.regsMu.Unlock()
	return nil
}

// leaveOtherServices deletes the entries of the id under other services
// than the one of its key k, which is written. JetStream KV changes one
// key at a time: each entry is deleted only if its last revision is still
// the one read, so that an entry another process wrote meanwhile (a
// process registering the id under that service) is left, and logged.
func (r *Registry) leaveOtherServices(ctx context.Context, id, k string) error {
	kv, err := r.store(ctx, false)
	if err != nil {
		return err
	}
	keys, err := r.keys(ctx, kv, anyService(id))
	if err != nil {
		return err
	}
	for _, old := range keys {
		if old == k {
			continue
		}
		e, err := kv.Get(ctx, old)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err == nil {
			err = kv.Purge(ctx, old, jetstream.LastRevision(e.Revision()))
		}
		switch {
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			r.log.Warn("the instance's entry under another service was written again as it moved; left to its writer", "bucket", r.bucket, "key", old, "instance", id)
		case err != nil:
			return fmt.Errorf("nats: delete %s, the instance's entry under another service, in %s: %w", old, r.bucket, err)
		default:
			r.log.Info("the instance moved to another service; deleted its entry under the former", "bucket", r.bucket, "key", old, "instance", id)
		}
	}
	return nil
}

// put writes an entry, creating the bucket again when it is gone.
func (r *Registry) put(ctx context.Context, k string, b []byte) error {
	kv, err := r.store(ctx, false)
	if err != nil {
		return err
	}
	_, err = kv.Put(ctx, k, b)
	if err == nil {
		return nil
	}
	// A bucket that is gone (the server restarted without its store)
	// leaves a write unanswered: look the bucket up, and create it again
	// if it is gone, on a budget of its own (the write may have used up
	// the caller's deadline), which the caller's cancellation (an app
	// stopping) still ends.
	if errors.Is(ctx.Err(), context.Canceled) {
		return err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		if errors.Is(ctx.Err(), context.Canceled) {
			cancel()
		}
	})
	defer stop()
	if _, lerr := r.js.KeyValue(rctx, r.bucket); !errors.Is(lerr, jetstream.ErrBucketNotFound) {
		return err
	}
	if kv, err = r.store(rctx, true); err == nil {
		_, err = kv.Put(rctx, k, b)
	}
	return err
}

// Deregister implements discovery.Registry: it deletes the id's entries
// under every service.
func (r *Registry) Deregister(ctx context.Context, id string) error {
	if err := r.writeMu.Lock(ctx, "Deregister of "+id); err != nil {
		return err
	}
	defer r.writeMu.Unlock()
	kv, err := r.store(ctx, false)
	if err != nil {
		return err
	}
	r.regsMu.Lock()
	delete(r.regs, id)
	r.regsMu.Unlock()
	keys, err := r.keys(ctx, kv, anyService(id))
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := kv.Purge(ctx, k); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return err
		}
	}
	return nil
}

// keys lists the keys matching filter; none is not an error, nor is a
// bucket that is gone (the server restarted without its store, and no
// heartbeat made the bucket again yet): it holds no instance.
func (r *Registry) keys(ctx context.Context, kv jetstream.KeyValue, filter string) ([]string, error) {
	l, err := kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) || bucketGone(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for k := range l.Keys() {
		out = append(out, k)
	}
	return out, nil
}

// stored is an instance as this registry writes it: with the time to
// live of its writer (discovery.ttl, in milliseconds), which readers hold
// it to, whatever their own. Readers of entries without it (written
// before it was) use their own ttl.
type stored struct {
	discovery.Instance
	TTL int64 `json:"ttlMs,omitempty"`
}

// maxEntryTTL bounds the time to live an entry may claim.
const maxEntryTTL = 24 * time.Hour

// entry is an instance as read, with its age and time to live.
type entry struct {
	in      discovery.Instance
	created time.Time
	ttl     time.Duration
}

// decode reads an entry's value; a malformed one is skipped, and logged
// unless the same fault of the key was (every read meets it again).
func (r *Registry) decode(e jetstream.KeyValueEntry) (entry, bool) {
	in, err := discovery.DecodeInstance(e.Value())
	if err != nil {
		r.skip("skipping a registry entry that is not a valid instance", e.Key(), err.Error(), "error", err)
		return entry{}, false
	}
	if key(in.Service, in.ID) != e.Key() {
		r.skip("skipping a registry entry that is an instance of another id or service than its key's", e.Key(), key(in.Service, in.ID), "instance", in.ID, "service", in.Service)
		return entry{}, false
	}
	r.bad.Forget(e.Key())
	ttl := r.ttl
	var w struct {
		TTL int64 `json:"ttlMs"`
	}
	if json.Unmarshal(e.Value(), &w) == nil && w.TTL > 0 {
		ttl = maxEntryTTL
		if w.TTL < maxEntryTTL.Milliseconds() { // no overflow in the product
			ttl = time.Duration(w.TTL) * time.Millisecond
		}
	}
	return entry{in: in, created: e.Created(), ttl: ttl}, true
}

// skip logs an entry (at key) that a read skipped, with args, unless the
// same fault of the entry was logged already.
func (r *Registry) skip(msg, key, fault string, args ...any) {
	r.bad.Warn(r.log, msg, key, fault, append([]any{"bucket", r.bucket, "key", key}, args...)...)
}

// live reports whether an entry is within its time to live.
func (r *Registry) live(e entry, now time.Time) bool { return now.Sub(e.created) < e.ttl }

// Discover implements discovery.Registry.
func (r *Registry) Discover(ctx context.Context, q discovery.Query) ([]discovery.Instance, error) {
	match, err := q.Matcher()
	if err != nil {
		return nil, err
	}
	kv, err := r.store(ctx, false)
	if err != nil {
		return nil, err
	}
	keys, err := r.keys(ctx, kv, q.Service+".*")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := []discovery.Instance{}
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if en, ok := r.decode(e); ok && r.live(en, now) && match(en.in) {
			out = append(out, en.in)
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
		pause := r.watchRetry
		var changes discovery.Changes // across watchers: a new one yields only what changed
		for again := false; ctx.Err() == nil; again = true {
			// Taken before the watcher: a reconnection, or the bucket made
			// again, after this point ends the watcher or its pause.
			back := r.backSignal()
			cont, ready := r.watch(ctx, q.Service, again, back, match, &changes, yield)
			if !cont {
				return
			}
			// The watcher ended (the connection came back, perhaps to a
			// new server, or the bucket went away): start again after a
			// pause, doubled while watching fails, up to a third of the
			// TTL, or until the connection comes back or the bucket is
			// made again.
			if ready {
				pause = r.watchRetry
			}
			select {
			case <-ctx.Done():
			case <-back:
			case <-time.After(pause):
			}
			pause = min(2*pause, max(r.ttl/3, r.watchRetry))
		}
	}
}

// watchRetry is the default first pause before watching again.
const watchRetry = 50 * time.Millisecond

// watch follows one watcher until it ends (cont) or the loop breaks (not
// cont); ready reports whether it got as far as the initial values. again
// says that it replaces one that ended; back ends it (see backSignal).
func (r *Registry) watch(ctx context.Context, service string, again bool, back <-chan struct{}, match func(discovery.Instance) bool, changes *discovery.Changes, yield func([]discovery.Instance, error) bool) (cont, ready bool) {
	kv, err := r.store(ctx, false)
	if err == nil {
		var w jetstream.KeyWatcher
		if w, err = kv.Watch(ctx, service+".*"); err == nil {
			defer r.stopWatcher(w)
			return r.follow(ctx, w, back, match, changes, yield, func() {
				if again {
					r.log.Debug("watching again", "bucket", r.bucket, "service", service)
				}
			})
		}
	}
	if bucketGone(err) {
		// The bucket went away with the server that held it (the
		// member hosting the embedded server stopped): the expected
		// moment of a handover, not a failure to report. The watch
		// starts again once a heartbeat has created the bucket anew.
		r.log.Debug("the discovery bucket is gone; watching again once it is back", "bucket", r.bucket, "service", service, "error", err)
		return true, false
	}
	return yield(nil, fmt.Errorf("nats: watch %s in %s: %w", service, r.bucket, err)), false
}

// stopWatcher stops w without waiting for it. Stopping a watcher deletes
// its consumer, a request that waits for JetStream's answer (up to 5s
// when the server does not answer): a watch ended by its caller (an app
// stopping) returns at once, and one that starts again does not wait
// either. The stop lasts no longer than the connection: Close ends the
// request, and a stop begun after it returns at once.
func (r *Registry) stopWatcher(w jetstream.KeyWatcher) {
	go func() { _ = w.Stop() }()
}

// bucketGone reports whether err says the bucket (its stream) does not
// exist: the watcher's consumer reports it with nats.go's older error
// values, other calls with jetstream's.
func bucketGone(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) ||
		errors.Is(err, nats.ErrStreamNotFound) || errors.Is(err, nats.ErrBucketNotFound)
}

// follow yields the snapshots of w's entries that changed; onReady runs
// once the initial values are in.
func (r *Registry) follow(ctx context.Context, w jetstream.KeyWatcher, back <-chan struct{}, match func(discovery.Instance) bool, changes *discovery.Changes, yield func([]discovery.Instance, error) bool, onReady func()) (cont, ready bool) {
	entries := map[string]entry{}
	// Entries expire on their writers' ttl, which may be shorter than
	// this registry's: look at least every second.
	tick := time.NewTicker(max(min(r.ttl/3, time.Second), 10*time.Millisecond))
	defer tick.Stop()
	emit := func() bool {
		now := time.Now()
		snap := []discovery.Instance{}
		for k, e := range entries {
			if !r.live(e, now) {
				delete(entries, k)
				continue
			}
			if match(e.in) {
				snap = append(snap, e.in)
			}
		}
		discovery.SortInstances(snap)
		return !changes.Changed(snap) || yield(snap, nil)
	}
	for {
		select {
		case <-ctx.Done():
			return false, ready
		case <-back:
			// The connection came back (perhaps to a new server): watch
			// again rather than trust this watcher's consumer.
			return true, ready
		case <-tick.C:
			if ready && !emit() {
				return false, ready
			}
		case e, ok := <-w.Updates():
			if !ok {
				return true, ready
			}
			switch {
			case e == nil: // the initial values are in
				ready = true
				onReady()
			case e.Operation() != jetstream.KeyValuePut:
				delete(entries, e.Key())
				r.bad.Forget(e.Key())
			default:
				if en, ok := r.decode(e); ok {
					entries[e.Key()] = en
				} else {
					delete(entries, e.Key())
				}
			}
			if ready && !emit() {
				return false, ready
			}
		}
	}
}

// Health implements discovery.Registry: the health of the id's live
// entry, whatever its service.
func (r *Registry) Health(ctx context.Context, id string) (discovery.Health, error) {
	kv, err := r.store(ctx, false)
	if err != nil {
		return "", err
	}
	keys, err := r.keys(ctx, kv, anyService(id))
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if err != nil {
			continue
		}
		if en, ok := r.decode(e); ok && r.live(en, time.Now()) {
			return en.in.Health, nil
		}
	}
	return "", fmt.Errorf("%w: %q", discovery.ErrNotFound, id)
}

// Services implements discovery.Lister.
func (r *Registry) Services(ctx context.Context) ([]string, error) {
	kv, err := r.store(ctx, false)
	if err != nil {
		return nil, err
	}
	keys, err := r.keys(ctx, kv, ">")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range keys {
		name, _, _ := strings.Cut(k, ".")
		if slices.Contains(out, name) {
			continue
		}
		if ins, err := r.Discover(ctx, discovery.Query{Service: name, AnyHealth: true}); err == nil && len(ins) > 0 {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Close implements discovery.Registry. It ends the write-back of the
// entries that a reconnection started.
func (r *Registry) Close() error {
	r.end()
	r.nc.Close()
	return nil
}
