// Package redis is discovery's Redis backend ("redis", on
// redis/go-redis/v9): import it and set discovery.backend: redis and
// discovery.url: redis://host:6379/0.
//
// Each instance is a hash, <prefix>:discovery:instance:<id>, holding the
// instance as JSON, whose key expiry is the instance's time to live; a set
// per service, <prefix>:discovery:service:<name>, indexes the ids. One Lua
// script writes the hash, sets its expiry and indexes it, so a register
// and a heartbeat are the same atomic call: after Redis restarts or is
// flushed, the next heartbeat puts every live instance back. Changes are
// published on <prefix>:discovery:changes (the service name); watchers
// read the service again on each, and every TTL/3 for entries that
// expired (Redis publishes no expiry without keyspace notifications).
//
// An index keeps the ids of expired instances until they are tidied: a
// read of the service takes out those it meets, and each register looks
// at a few of its service's ids, so that the index of a service nobody
// reads keeps a bound while instances come and go.
//
// An entry someone else wrote that is not an instance is skipped and
// logged (once, and again if its fault changes), never used; so is an
// index that is not a set. The keys of an instance being registered are
// the registry's: one that holds another type is replaced (and logged),
// so that a stray key never keeps an instance out of the registry.
package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/titanframework/titan/internal/logevery"
	"github.com/titanframework/titan/internal/redisopts"
	"github.com/titanframework/titan/modules/discovery"
)

func init() {
	discovery.RegisterBackend("redis", func(ctx context.Context, c discovery.Config, log *slog.Logger) (discovery.Registry, error) {
		return Open(ctx, c.URL, c.Prefix, c.TTL, log)
	})
}

// Registry is a discovery.Registry in Redis.
type Registry struct {
	c      *goredis.Client
	prefix string
	ttl    time.Duration
	log    *slog.Logger
	bad    logevery.Faults // the malformed entries logged, by key
}

var _ discovery.Registry = (*Registry)(nil)

// Open connects to the Redis server at url (redis://[user:pass@]host:port/db,
// default redis://127.0.0.1:6379/0) and checks that it answers. Keys start
// with prefix (default "titan"); entries live ttl after their last
// Register. log receives the entries skipped as malformed (nil: discarded).
//
// Each step of an operation (a dial, a read, a write, the wait for a
// pooled connection) times out after a second, a command is retried once
// and a dial never, so that a Redis out of reach fails an operation (the
// check of Open, a heartbeat, a Discover) in about a second; a bound the
// URL sets (dial_timeout, read_timeout, write_timeout, pool_timeout,
// max_retries) is kept.
func Open(ctx context.Context, url, prefix string, ttl time.Duration, log *slog.Logger) (*Registry, error) {
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redisopts.Parse(url)
	if err != nil {
		return nil, fmt.Errorf("discovery.url %q: %w", discovery.RedactURL(url), err)
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
	c := goredis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis at %s does not answer: %w", opts.Addr, err)
	}
	return &Registry{c: c, prefix: prefix, ttl: ttl, log: log}, nil
}

func (r *Registry) instanceKey(id string) string { return r.prefix + ":discovery:instance:" + id }
func (r *Registry) indexKey(name string) string  { return r.prefix + ":discovery:service:" + name }
func (r *Registry) changes() string              { return r.prefix + ":discovery:changes" }
func (r *Registry) servicesKey() string          { return r.prefix + ":discovery:services" }

// staleLua defines stale(prefix, service, id), which reports whether the
// id leaves the index of service: its entry (under prefix) is gone, holds
// no instance, or is of another service now. It is what a read of the
// index finds, asked again in the script that takes the id out, so that
// an instance registering between the read and the write stays.
const staleLua = `
local function stale(prefix, service, id)
  local key = prefix .. ':discovery:instance:' .. id
  local t = redis.call('TYPE', key)['ok']
  if t == 'none' then
    return true
  end
  if t ~= 'hash' then
    return false
  end
  if redis.call('HEXISTS', key, 'json') == 0 then
    return true
  end
  local s = redis.call('HGET', key, 'service')
  return s ~= false and s ~= service
end
`

// tidySample is how many ids of its service's index a register looks at.
const tidySample = 20

// registerScript writes the instance (KEYS[1], the JSON in ARGV[1]) for
// ARGV[2] ms, indexes its id (ARGV[3]) under KEYS[2] and its service name
// (ARGV[4]) under KEYS[4], and publishes the name on KEYS[3] when the
// entry is new or changed. An instance that was of another service
// leaves that service's index (under the prefix ARGV[5]), which hears of
// it. Up to ARGV[6] ids of the index, picked at random, are looked at and
// the stale ones taken out. Each of its keys that holds another type than
// the registry's is replaced: it returns the key, the type it held and
// the registry's, for each.
var registerScript = goredis.NewScript(staleLua + `
local replaced = {}
local function claim(key, want)
  local t = redis.call('TYPE', key)['ok']
  if t ~= want and t ~= 'none' then
    redis.call('DEL', key)
    table.insert(replaced, key)
    table.insert(replaced, t)
    table.insert(replaced, want)
  end
end
claim(KEYS[1], 'hash')
claim(KEYS[2], 'set')
claim(KEYS[4], 'set')
local old = redis.call('HGET', KEYS[1], 'json')
local was = redis.call('HGET', KEYS[1], 'service')
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'service', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[4])
if was and was ~= ARGV[4] then
  local index = ARGV[5] .. ':discovery:service:' .. was
  if redis.call('TYPE', index)['ok'] == 'set' then
    redis.call('SREM', index, ARGV[3])
  end
  redis.call('PUBLISH', KEYS[3], was)
end
if old ~= ARGV[1] then
  redis.call('PUBLISH', KEYS[3], ARGV[4])
end
for _, id in ipairs(redis.call('SRANDMEMBER', KEYS[2], ARGV[6])) do
  if stale(ARGV[5], ARGV[4], id) then
    redis.call('SREM', KEYS[2], id)
  end
end
return replaced
`)

// tidyScript takes the ids ARGV[3...] out of the index KEYS[1] of the
// service ARGV[2] (under the prefix ARGV[1]) if they are still stale.
var tidyScript = goredis.NewScript(staleLua + `
if redis.call('TYPE', KEYS[1])['ok'] ~= 'set' then
  return 0
end
for i = 3, #ARGV do
  if stale(ARGV[1], ARGV[2], ARGV[i]) then
    redis.call('SREM', KEYS[1], ARGV[i])
  end
end
return 0
`)

// deregisterScript removes the instance KEYS[1] (id ARGV[1]) from its
// index (under the prefix ARGV[2]) and publishes its service on KEYS[2].
// A key of another type than a hash is deleted, and its type returned
// (else "").
var deregisterScript = goredis.NewScript(`
local t = redis.call('TYPE', KEYS[1])['ok']
if t == 'none' then
  return ''
end
if t ~= 'hash' then
  redis.call('DEL', KEYS[1])
  return t
end
local service = redis.call('HGET', KEYS[1], 'service')
redis.call('DEL', KEYS[1])
if service then
  local index = ARGV[2] .. ':discovery:service:' .. service
  if redis.call('TYPE', index)['ok'] == 'set' then
    redis.call('SREM', index, ARGV[1])
  end
  redis.call('PUBLISH', KEYS[2], service)
end
return ''
`)

// entryLua defines entry(key, max), the entry of the instance key: the
// JSON of its entry, false when the key or its entry is missing, the
// key's type in a table when it is not a hash, and the entry's length
// when it is longer than max bytes: an entry that every reader skips is
// not sent to them.
const entryLua = `
local function entry(key, max)
  local t = redis.call('TYPE', key)['ok']
  if t == 'none' then
    return false
  elseif t ~= 'hash' then
    return {t}
  end
  local n = redis.call('HSTRLEN', key, 'json')
  if n > max then
    return n
  end
  return redis.call('HGET', key, 'json')
end
`

// readScript reads the entries of the instance keys KEYS (see entryLua),
// those longer than ARGV[1] bytes as their length.
var readScript = goredis.NewScript(entryLua + `
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = entry(key, tonumber(ARGV[1]))
end
return out
`)

// servicesScript reads, in one call, the list of services under the
// prefix ARGV[1] and the entries of each service's instances (those
// longer than ARGV[2] bytes as their length, see entryLua). It returns
// the list's type, then for each service its name, its index's type, the
// ids of the index and their entries. The keys are the prefix's, not
// KEYS: the ids are known only once the indexes are read.
var servicesScript = goredis.NewScript(entryLua + `
local prefix, max = ARGV[1], tonumber(ARGV[2])
local list = prefix .. ':discovery:services'
local t = redis.call('TYPE', list)['ok']
local out = {t}
if t ~= 'set' then
  return out
end
for _, name in ipairs(redis.call('SMEMBERS', list)) do
  local index = prefix .. ':discovery:service:' .. name
  local it = redis.call('TYPE', index)['ok']
  local ids, entries = {}, {}
  if it == 'set' then
    ids = redis.call('SMEMBERS', index)
    for i, id in ipairs(ids) do
      entries[i] = entry(prefix .. ':discovery:instance:' .. id, max)
    end
  end
  table.insert(out, {name, it, ids, entries})
end
return out
`)

// tidyServicesScript tidies what a read of the services found, under the
// prefix ARGV[1]: ARGV[2...] is, for each service, its name, "1" to take
// it out of the list of services KEYS[1] unless its index is a set with
// an id, the count of the ids that follow, and those ids, taken out of
// its index if they are still stale.
var tidyServicesScript = goredis.NewScript(staleLua + `
local prefix = ARGV[1]
local i = 2
while i <= #ARGV do
  local name, unlist, n = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2])
  local index = prefix .. ':discovery:service:' .. name
  local isset = redis.call('TYPE', index)['ok'] == 'set'
  if isset then
    for j = i + 3, i + 2 + n do
      if stale(prefix, name, ARGV[j]) then
        redis.call('SREM', index, ARGV[j])
      end
    end
  end
  if unlist == '1' and not (isset and redis.call('SCARD', index) > 0) then
    redis.call('SREM', KEYS[1], name)
  end
  i = i + 3 + n
end
return 0
`)

// entries reads the entries of the instance keys (see readScript): each
// is a string (the JSON), nil (missing), an int64 (the length of one too
// long to read) or a []any holding the key's type (not a hash).
func (r *Registry) entries(ctx context.Context, keys []string) ([]any, error) {
	v, err := readScript.Run(ctx, r.c, keys, discovery.MaxEntryBytes).Slice()
	if err != nil {
		return nil, err
	}
	if len(v) != len(keys) {
		return nil, fmt.Errorf("redis: %d answers for %d entries", len(v), len(keys))
	}
	return v, nil
}

// Register implements discovery.Registry: the same atomic call registers
// and refreshes. The instance's keys are the registry's: one that holds
// another type (a string where the instance's hash or its service's index
// belongs) is replaced, and logged, so that an id someone else wrote to
// is still served.
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
	replaced, err := orDone(ctx, func() ([]string, error) {
		return registerScript.Run(ctx, r.c, []string{r.instanceKey(in.ID), r.indexKey(in.Service), r.changes(), r.servicesKey()},
			string(b), r.ttl.Milliseconds(), in.ID, in.Service, r.prefix, tidySample).StringSlice()
	})
	if err != nil {
		return fmt.Errorf("redis: Register of %s: %w", in.ID, err)
	}
	for i := 0; i+2 < len(replaced); i += 3 {
		r.log.Warn("replaced a registry key of another type", "key", replaced[i], "type", replaced[i+1], "want", replaced[i+2], "instance", in.ID)
	}
	return nil
}

// Deregister implements discovery.Registry. A key of the id that is not
// an instance's hash is deleted, and logged.
func (r *Registry) Deregister(ctx context.Context, id string) error {
	t, err := orDone(ctx, func() (string, error) {
		return deregisterScript.Run(ctx, r.c, []string{r.instanceKey(id), r.changes()}, id, r.prefix).Text()
	})
	if err != nil {
		return fmt.Errorf("redis: Deregister of %s: %w", id, err)
	}
	if t != "" {
		r.log.Warn("deleted a registry key of another type", "key", r.instanceKey(id), "type", t, "want", "hash")
	}
	return nil
}

// orDone returns f's result, or ctx's error as soon as ctx ends: go-redis
// notices a cancelled context only when its read of the answer times out
// (a second), which a caller stopping while Redis does not answer (an
// app's stop, ending its heartbeat and its watches) would wait for. The
// call left behind ends with that timeout; its write may still be done,
// as a cancelled write's may be.
func orDone[T any](ctx context.Context, f func() (T, error)) (T, error) {
	if ctx.Done() == nil { // never ends
		return f()
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// Discover implements discovery.Registry.
func (r *Registry) Discover(ctx context.Context, q discovery.Query) ([]discovery.Instance, error) {
	match, err := q.Matcher()
	if err != nil {
		return nil, err
	}
	all, err := r.read(ctx, q.Service)
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

// read returns every live instance of the service, sorted by id; ids
// whose entry expired, or is now of another service, leave the index,
// entries that are not a hash or not a valid instance are skipped and
// logged, and so is an index that is not a set (none of the service's
// instances is read; the next Register replaces it). An entry longer
// than discovery.MaxEntryBytes is skipped without being sent (see
// readScript).
func (r *Registry) read(ctx context.Context, service string) ([]discovery.Instance, error) {
	ids, err := r.c.SMembers(ctx, r.indexKey(service)).Result()
	if wrongType(err) {
		t := r.keyType(ctx, r.indexKey(service))
		r.skip("skipping a service index that is not a set", r.indexKey(service), t, "type", t, "error", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis: read %s: %w", r.indexKey(service), err)
	}
	r.bad.Forget(r.indexKey(service))
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.instanceKey(id)
	}
	entries, err := r.entries(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("redis: read the instances of %s: %w", service, err)
	}
	out, gone, err := r.sift(service, ids, entries)
	if err != nil {
		return nil, err
	}
	if len(gone) > 0 { // expired or moved: tidy the index, asking again in the script (an id may register meanwhile)
		_ = tidyScript.Run(ctx, r.c, []string{r.indexKey(service)}, append([]any{r.prefix, service}, gone...)...).Err()
	}
	discovery.SortInstances(out)
	return out, nil
}

// sift reads the entries of the ids of service's index (see entries):
// it returns the live instances, and the ids whose entry expired or is
// now of another service (the index's to tidy); entries that are not a
// hash or not a valid instance of their id are skipped and logged.
func (r *Registry) sift(service string, ids []string, entries []any) ([]discovery.Instance, []any, error) {
	var out []discovery.Instance
	var gone []any
	for i, e := range entries {
		key := r.instanceKey(ids[i])
		var s string
		switch e := e.(type) {
		case nil:
			r.bad.Forget(key)
			gone = append(gone, ids[i])
			continue
		case []any:
			t := fmt.Sprint(e...)
			r.skip("skipping a registry entry that is not a hash", key, "not a hash", "type", t)
			continue
		case int64:
			err := discovery.EntryTooLong(int(e))
			r.skip("skipping a registry entry that is not a valid instance", key, err.Error(), "error", err)
			continue
		case string:
			s = e
		default:
			return nil, nil, fmt.Errorf("redis: read %s: an answer of type %T", key, e)
		}
		in, err := discovery.DecodeInstance([]byte(s))
		if err != nil {
			r.skip("skipping a registry entry that is not a valid instance", key, err.Error(), "error", err)
			continue
		}
		if in.ID == ids[i] && in.Service != service {
			// The instance serves another service now: it registered
			// there after its entry expired, when there was no former
			// service to leave. Its id leaves this index as an expired
			// one does.
			r.bad.Forget(key)
			gone = append(gone, ids[i])
			continue
		}
		if in.ID != ids[i] {
			r.skip("skipping a registry entry that is an instance of another id than its key's", key, "id "+in.ID, "service", service, "instance", in.ID)
			continue
		}
		r.bad.Forget(key)
		out = append(out, in)
	}
	return out, gone, nil
}

// skip logs an entry (at key) that a read skipped, with args, unless the
// same fault of the entry was logged already.
func (r *Registry) skip(msg, key, fault string, args ...any) {
	r.bad.Warn(r.log, msg, key, fault, append([]any{"key", key}, args...)...)
}

// wrongType reports whether err is Redis's answer to a command on a key
// of another type (a string where a hash is expected).
func wrongType(err error) bool { return goredis.HasErrorPrefix(err, "WRONGTYPE") }

// keyType is the type of the value at key (string, list, hash...), for
// messages; "unknown" when Redis does not say.
func (r *Registry) keyType(ctx context.Context, key string) string {
	t, err := r.c.Type(ctx, key).Result()
	if err != nil {
		return "unknown"
	}
	return t
}

// Watch implements discovery.Registry.
func (r *Registry) Watch(ctx context.Context, q discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(yield func([]discovery.Instance, error) bool) {
		if _, err := q.Matcher(); err != nil {
			yield(nil, err)
			return
		}
		ps := r.c.Subscribe(ctx, r.changes())
		defer ps.Close()
		msgs := ps.Channel()
		tick := time.NewTicker(max(r.ttl/3, 10*time.Millisecond))
		defer tick.Stop()
		var changes discovery.Changes
		failing := false
		for {
			snap, err := orDone(ctx, func() ([]discovery.Instance, error) { return r.Discover(ctx, q) })
			switch {
			case err != nil && ctx.Err() == nil:
				if !failing && !yield(nil, err) {
					return
				}
				failing = true
			case err == nil:
				failing = false
				if changes.Changed(snap) && !yield(snap, nil) {
					return
				}
			}
		wait:
			for {
				select {
				case <-ctx.Done():
					return
				case m, ok := <-msgs:
					if !ok {
						return
					}
					if m.Payload == q.Service {
						break wait
					}
				case <-tick.C:
					break wait
				}
			}
		}
	}
}

// Health implements discovery.Registry. An id whose key is not an
// instance's hash is not found (its error names the key and its type), as
// Discover does not list it.
func (r *Registry) Health(ctx context.Context, id string) (discovery.Health, error) {
	entries, err := r.entries(ctx, []string{r.instanceKey(id)})
	if err != nil {
		return "", fmt.Errorf("redis: Health of %s: %w", id, err)
	}
	var s string
	switch e := entries[0].(type) {
	case nil:
		return "", fmt.Errorf("%w: %q", discovery.ErrNotFound, id)
	case []any:
		return "", fmt.Errorf("%w: %q (%s holds a %s, not an instance's hash)", discovery.ErrNotFound, id, r.instanceKey(id), fmt.Sprint(e...))
	case int64:
		return "", fmt.Errorf("redis: %s: %w", r.instanceKey(id), discovery.EntryTooLong(int(e)))
	case string:
		s = e
	default:
		return "", fmt.Errorf("redis: read %s: an answer of type %T", r.instanceKey(id), e)
	}
	in, err := discovery.DecodeInstance([]byte(s))
	if err != nil {
		return "", fmt.Errorf("redis: %s: %w", r.instanceKey(id), err)
	}
	return in.Health, nil
}

// Services implements discovery.Lister: the services with a live
// instance, sorted (names whose instances all expired leave the list).
// A service whose index is not a set is skipped and logged, as is the
// list of names when it is not a set (none is listed); the next Register
// replaces it. The list, the indexes and the entries are read in one
// call (see servicesScript), and what it found expired is tidied in one
// more.
func (r *Registry) Services(ctx context.Context) ([]string, error) {
	v, err := servicesScript.Run(ctx, r.c, nil, r.prefix, discovery.MaxEntryBytes).Slice()
	if err != nil {
		return nil, fmt.Errorf("redis: read the services of %s: %w", r.servicesKey(), err)
	}
	t := ""
	if len(v) > 0 {
		t, _ = v[0].(string)
	}
	switch t {
	case "set":
	case "none":
		r.bad.Forget(r.servicesKey())
		return nil, nil
	case "":
		return nil, fmt.Errorf("redis: read the services of %s: an answer of %d values, the first of type %T", r.servicesKey(), len(v), v[0])
	default:
		r.skip("skipping a list of services that is not a set", r.servicesKey(), t, "type", t)
		return nil, nil
	}
	r.bad.Forget(r.servicesKey())
	var out []string
	var tidy []any // the arguments of tidyServicesScript
	for _, s := range v[1:] {
		name, it, ids, entries, err := serviceAnswer(s)
		if err != nil {
			return nil, fmt.Errorf("redis: read the services of %s: %w", r.servicesKey(), err)
		}
		var ins []discovery.Instance
		var gone []any
		switch it {
		case "set", "none":
			r.bad.Forget(r.indexKey(name))
			if ins, gone, err = r.sift(name, ids, entries); err != nil {
				return nil, err
			}
		default:
			r.skip("skipping a service index that is not a set", r.indexKey(name), it, "type", it)
		}
		if len(ins) > 0 {
			out = append(out, name)
		}
		if len(ins) == 0 || len(gone) > 0 { // unlisted unless an instance registered meanwhile
			unlist := "0"
			if len(ins) == 0 {
				unlist = "1"
			}
			tidy = append(append(tidy, name, unlist, len(gone)), gone...)
		}
	}
	if len(tidy) > 0 {
		_ = tidyServicesScript.Run(ctx, r.c, []string{r.servicesKey()}, append([]any{r.prefix}, tidy...)...).Err()
	}
	slices.Sort(out)
	return out, nil
}

// serviceAnswer reads the answer of servicesScript about one service: its
// name, its index's type, its ids and their entries (see entries).
func serviceAnswer(v any) (name, indexType string, ids []string, entries []any, err error) {
	parts, ok := v.([]any)
	if !ok || len(parts) != 4 {
		return "", "", nil, nil, fmt.Errorf("an answer about a service of type %T, not 4 values", v)
	}
	name, ok1 := parts[0].(string)
	indexType, ok2 := parts[1].(string)
	rawIDs, ok3 := parts[2].([]any)
	entries, ok4 := parts[3].([]any)
	if !ok1 || !ok2 || !ok3 || !ok4 || len(entries) != len(rawIDs) {
		return "", "", nil, nil, fmt.Errorf("a malformed answer about the service %v", parts[0])
	}
	ids = make([]string, len(rawIDs))
	for i, id := range rawIDs {
		if ids[i], ok = id.(string); !ok {
			return "", "", nil, nil, fmt.Errorf("an id of type %T in the answer about the service %s", id, name)
		}
	}
	return name, indexType, ids, entries, nil
}

var _ discovery.Lister = (*Registry)(nil)

// Close implements discovery.Registry.
func (r *Registry) Close() error { return r.c.Close() }
