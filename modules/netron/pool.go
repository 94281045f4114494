package netron

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Balancers a Pool spreads calls with.
const (
	RoundRobin   = "round-robin"   // each connected instance in turn (the default)
	Random       = "random"        // a connected instance at random
	LeastPending = "least-pending" // the one with the fewest calls in flight from this process
	PowerOfTwo   = "power-of-two"  // the less busy of two picked at random
)

// PoolOptions configure a [Pool].
//
// Deprecated: give [Netron.NewPool] the client options [WithBalancer],
// [WithLogger] and [WithInterceptors]; a PoolOptions value is a
// [ClientOption] that gives them, until the next minor release.
type PoolOptions struct {
	// Balancer is RoundRobin (""), Random, LeastPending or PowerOfTwo.
	Balancer string
	// Log receives what the pool notices (instances that cannot be
	// reached, a resolver that fails); nil discards it.
	Log *slog.Logger
	// Interceptors wrap each call made through the pool (see
	// [Netron.NewPool]).
	Interceptors []Interceptor
}

func (o PoolOptions) applyClient(c *clientConfig) {
	if o.Balancer != "" {
		WithBalancer(o.Balancer).applyClient(c)
	}
	if o.Log != nil {
		WithLogger(o.Log).applyClient(c)
	}
	if len(o.Interceptors) > 0 {
		WithInterceptors(o.Interceptors...).applyClient(c)
	}
}

// String describes the options as the client options they give.
func (o PoolOptions) String() string {
	var parts []string
	if o.Balancer != "" {
		parts = append(parts, WithBalancer(o.Balancer).String())
	}
	if o.Log != nil {
		parts = append(parts, WithLogger(o.Log).String())
	}
	if len(o.Interceptors) > 0 {
		parts = append(parts, WithInterceptors(o.Interceptors...).String())
	}
	return "PoolOptions{" + strings.Join(parts, ", ") + "}"
}

// Pool is a client of one service over all its instances: connections to
// each instance the Resolver gives (shared with the Netron's other pools
// calling there, more than one while they are busy: [Config].Pool),
// calls spread over the instances connected now
// by the balancer, each call through the pool's interceptors
// (the interceptors of its options: retries that fail over to another
// instance, circuit breakers, bulkheads, timeouts). When the Resolver
// follows changes (a [WatchResolver], such as discovery's) the pool
// follows the instances: new ones are dialled; one that leaves is no
// longer picked and its connection closes once its calls are answered.
// titan.Remote is a Pool; programs without fx make one with
// [Netron.NewPool]. A Pool is safe for concurrent use.
type Pool struct {
	n        *Netron
	target   Target
	service  string // target.String(), what calls name
	resolver Resolver
	balancer string
	log      *slog.Logger
	wait     time.Duration // how long a call waits for the first instance (WithConnectWait)
	follows  bool          // the resolver follows changes: instances may come after Start

	unary     UnaryFunc           // the pool's interceptors around pick
	stream    StreamingClientFunc // the pool's interceptors around pickStream
	netStream StreamingClientFunc // the Netron's interceptors around openStream
	pooled    bool                // every interceptor borrows its Calls (see CallBorrower)

	idem atomic.Pointer[map[string]bool] // the methods marked idempotent (Check)

	// The first instance: calls on a started pool that has had none wait
	// for it (awaitPeer).
	started   atomic.Bool   // Start succeeded
	ready     chan struct{} // closed when the snapshot first has an instance (publishLocked)
	hadPeer   bool          // ready is closed (mu)
	lastErr   string        // why none is connected yet: the resolver's or the dials' last error (mu)
	closing   chan struct{} // closed when Close begins: wakes the calls waiting
	closeOnce sync.Once

	mu        sync.Mutex
	peers     []*pooledPeer   // in the order the resolver gave
	wanted    []string        // the addresses the resolver gave last, without repeats
	unreached []string        // those of wanted that could not be dialled (redial)
	dialing   map[string]bool // the addresses being dialled (dial): not dialled again meanwhile
	snap      atomic.Pointer[[]*pooledPeer]
	next      atomic.Uint64

	cancel context.CancelFunc
	done   sync.WaitGroup // the goroutines of follow and redial
	missed chan struct{}  // an address could not be dialled: wakes redial

	retiring sync.WaitGroup
	stopping chan struct{} // closed by Close: retiring peers close at once
	stopOnce sync.Once
}

type pooledPeer struct {
	addr string
	set  *hubSet // the connections to addr, shared with the Netron's other pools
}

// NewPool returns a pool of target's instances ("users@^1"), which r
// resolves, or which run at the address of [WithAddress] (r may then be
// nil). Nothing is dialled before [Pool.Start]. A pool takes the client
// options [WithAddress], [WithBalancer], [WithConnectWait], [WithLogger],
// [WithBearerToken], and interceptors: those of [WithInterceptors] and
// [WithClientInterceptors] (titan's call policies) wrap each call made
// through the pool, the first outermost, around the choice of its
// instance: they see the call once, with Call.Peer nil, and what they
// wrap picks an instance by the balancer (setting Call.Peer) and calls it
// through the Netron's own interceptors. An interceptor that runs what it
// wraps again sends the call again, to the instance the balancer picks
// then: that is the pool's failover, a retry interceptor
// (modules/resilience.Retry, which titan.Remote installs). Without one a
// call is sent once. Circuit breakers, bulkheads and timeouts of one
// remote service go there too. Interceptors run on the calling side only
// here: their WrapStreamingHandler is not used. The pool dials with its
// Netron's configuration (TLS, ...): other Netron options are refused,
// each named.
func (n *Netron) NewPool(target string, r Resolver, opts ...ClientOption) (*Pool, error) {
	t, err := n.targets.parse(target)
	if err != nil {
		return nil, err
	}
	c, err := newClientConfig(forPool, opts)
	if err != nil {
		return nil, fmt.Errorf("netron: NewPool(%q): %w", target, err)
	}
	if c.addr != "" {
		r = StaticResolver{t.Name: c.addr}
	}
	if r == nil {
		return nil, fmt.Errorf("netron: NewPool(%q): no Resolver and no WithAddress: give one, to find the service's instances", target)
	}
	balancer := cmp.Or(c.balancer, RoundRobin)
	pl := &Pool{n: n, target: t, service: t.String(), resolver: r, balancer: balancer, log: c.log,
		wait: cmp.Or(c.connWait, n.cfg.HandshakeTimeout), follows: follows(r),
		ready: make(chan struct{}), closing: make(chan struct{}), stopping: make(chan struct{}), missed: make(chan struct{}, 1)}
	ics := c.interceptors(ClientInfo{Target: target, Idempotent: pl.Idempotent, Log: c.log})
	pl.unary = chainUnary(ics, pl.pick)
	pl.stream = chainStreamingClient(ics, pl.pickStream)
	pl.netStream = chainStreamingClient(n.interceptors, func(ctx context.Context, call *Call) (*Stream, error) {
		return call.Peer.openStream(ctx, call)
	})
	pl.pooled = n.poolCalls && borrowsAll(ics)
	return pl, nil
}

// Start resolves the target, connects to its instances (it fails only
// when none answers, naming each address; one that does not answer holds
// it no longer than a second after another did) and, with a WatchResolver,
// follows changes until Close. A resolver that follows changes (a
// WatchResolver, or [Resolvers] with one) and does not find the target
// yet (a not_found error: the service is starting beside this program)
// does not fail Start: the pool follows it, and calls wait for the first
// instance to connect, up to [WithConnectWait].
func (pl *Pool) Start(ctx context.Context) error {
	addrs, err := pl.resolver.Resolve(ctx, pl.target)
	if err != nil {
		if !pl.follows || CodeOf(err) != CodeNotFound {
			return err
		}
		pl.noteErr("the resolver: " + err.Error())
		addrs = nil
	}
	if err := pl.set(ctx, addrs); err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.Background())
	pl.cancel = cancel
	pl.done.Go(func() { pl.redial(bg) })
	if w, ok := pl.resolver.(WatchResolver); ok {
		pl.follow(bg, w)
	}
	pl.started.Store(true)
	return nil
}

// follows reports whether r follows changes: a WatchResolver other than
// Resolvers, or Resolvers with one (Resolvers of fixed tables give
// nothing new).
func follows(r Resolver) bool {
	switch r := r.(type) {
	case Resolvers:
		return slices.ContainsFunc(r, follows)
	case WatchResolver:
		return true
	}
	return false
}

// Check checks client (as [Peer.Bind] takes it) against the service's
// definition on one instance, and learns from it which methods are
// idempotent ([Pool.Idempotent]).
func (pl *Pool) Check(ctx context.Context, client any) error {
	p, err := pl.Peer()
	if err != nil {
		p, err = pl.awaitPeer(ctx, err) // none yet: wait for the first
	}
	if err != nil {
		return err
	}
	def, err := p.checkClient(ctx, pl.target.String(), client) // one query_interface for both
	if err != nil {
		return err
	}
	idem := IdempotentMethods(def)
	pl.idem.Store(&idem)
	return nil
}

// Bind fills client (as [Peer.Bind] takes it) with functions that call
// the service through the pool: each call goes through the pool's
// interceptors, and to the instance the balancer picks. It checks the
// fields' shapes only ([Pool.Check] checks them against the definition).
// It may be called before Start: calls fail unavailable (and match
// ErrNotRun) until the pool is started; then, until the pool's first
// instance connects, they wait for it ([WithConnectWait]).
func (pl *Pool) Bind(client any) error {
	v, fields, err := clientFields(client)
	if err != nil {
		return err
	}
	for _, f := range fields {
		v.FieldByName(f.name).Set(pl.bindFunc(f.method, f.typ))
	}
	return nil
}

// Call calls method of the pool's service with positional args, through
// the pool's interceptors, and returns the encoded reply, as [Peer.Call]
// does on one peer.
func (pl *Pool) Call(ctx context.Context, method string, args ...any) (*Reply, error) {
	res, err := pl.unary(ctx, pl.newCall(ctx, false, method, args))
	if err != nil {
		return nil, err
	}
	return res.(*Reply), nil
}

// OpenStream calls a stream method of the pool's service through the
// pool's interceptors, as [Peer.OpenStream] does on one peer; ctx bounds
// the whole stream.
func (pl *Pool) OpenStream(ctx context.Context, method string, args ...any) (*Stream, error) {
	return pl.stream(ctx, pl.newCall(ctx, false, method, args))
}

// newCall describes a call of the pool's service, its instance not yet
// chosen (Peer nil).
func (pl *Pool) newCall(ctx context.Context, pooled bool, method string, args []any) *Call {
	call := newClientCall(pooled)
	call.prepare(ctx, pl.service, method, args, pl.n.limits)
	return call
}

// pick is the innermost of the pool's unary chain: it picks an instance
// and calls it through the Netron's interceptors.
func (pl *Pool) pick(ctx context.Context, call *Call) (any, error) {
	p, err := pl.Peer()
	if err != nil {
		p, err = pl.awaitPeer(ctx, err) // none yet: wait for the first
	}
	if err != nil {
		return nil, err
	}
	call.Peer = p
	return pl.n.clientChain(ctx, call)
}

// pickStream is pick for streams.
func (pl *Pool) pickStream(ctx context.Context, call *Call) (*Stream, error) {
	p, err := pl.Peer()
	if err != nil {
		p, err = pl.awaitPeer(ctx, err) // none yet: wait for the first
	}
	if err != nil {
		return nil, err
	}
	call.Peer = p
	return pl.netStream(ctx, call)
}

// callInto calls method through the pool and decodes its result into ptr
// (nil drops it). The reply is decoded here and nothing else sees the
// Call: it may be pooled.
func (pl *Pool) callInto(ctx context.Context, method string, args []any, ptr any) error {
	call := pl.newCall(ctx, pl.pooled, method, args)
	defer call.release()
	res, err := pl.unary(ctx, call)
	if err != nil {
		return err
	}
	r := res.(*Reply)
	defer r.release()
	if ptr == nil {
		return nil
	}
	ok, err := protocol.UnmarshalScalar(r.raw, ptr, r.limits)
	if !ok {
		err = protocol.UnmarshalLimits(r.raw, ptr, r.limits)
	}
	if err != nil {
		return NewError(CodeInternal, fmt.Errorf("decode result: %w", err))
	}
	return nil
}

// bindFunc returns the function of a client field of type ft (a shape
// clientFields accepted) calling method through the pool.
func (pl *Pool) bindFunc(method string, ft reflect.Type) reflect.Value {
	switch {
	case ft.NumOut() == 2: // (T, error)
		out := ft.Out(0)
		return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
			res := reflect.New(out)
			err := pl.callInto(in[0].Interface().(context.Context), method, values(in[1:]), res.Interface())
			return []reflect.Value{res.Elem(), errValue(err)}
		})
	case ft.Out(0) == errorType: // void
		return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
			return []reflect.Value{errValue(pl.callInto(in[0].Interface().(context.Context), method, values(in[1:]), nil))}
		})
	}
	item, _ := isStreamType(ft.Out(0)) // iter.Seq2[T, error]
	return streamFunc(ft, item, func(ctx context.Context, args []any) (*Stream, error) {
		return pl.OpenStream(ctx, method, args...)
	})
}

// Idempotent reports whether the service's definition (read by Check)
// marks method idempotent.
func (pl *Pool) Idempotent(method string) bool {
	m := pl.idem.Load()
	return m != nil && (*m)[method]
}

// Peer picks the peer of the next call among those connected now (a peer
// that is reconnecting is passed over while another is connected, so that
// a call fails over before it is sent), by the balancer. It does not wait:
// with no instance connected it fails at once, unavailable, saying why
// (each instance's address and state, or what the resolver or the dials
// said last), where a call through a pool that has had no instance yet
// waits for the first one ([WithConnectWait]).
func (pl *Pool) Peer() (*Peer, error) {
	ps := pl.snap.Load()
	if ps == nil || len(*ps) == 0 {
		select {
		case <-pl.closing:
			return nil, NewError(CodeUnavailable, closedNotRun(fmt.Sprintf("%s: the pool is closed", pl.target)))
		default:
		}
		msg := fmt.Sprintf("%s: no instance is connected", pl.target)
		pl.mu.Lock()
		if pl.lastErr != "" { // why: what the resolver or the dials said last
			msg += ": " + pl.lastErr
		}
		pl.mu.Unlock()
		return nil, NewError(CodeUnavailable, notRun(msg))
	}
	all := *ps
	n := len(all)
	if pl.balancer == RoundRobin {
		// Each connected instance in turn: one that is not passes its turn
		// on, so that its share is spread over the others rather than
		// falling on the one after it.
		for range n {
			if s := all[pl.next.Add(1)%uint64(n)].set; s.connected() {
				return s.pick(), nil
			}
		}
	} else if up := connectedOf(make([]*hubSet, 0, 8), all); len(up) > 0 {
		// The others choose among the connected instances only, for the
		// same reason.
		k := len(up)
		start := rand.IntN(k)
		switch pl.balancer {
		case LeastPending:
			best, least := up[start], up[start].inFlight()
			for i := 1; i < k; i++ {
				s := up[(start+i)%k]
				if m := s.inFlight(); m < least {
					best, least = s, m
				}
			}
			return best.pick(), nil
		case PowerOfTwo:
			a := up[start]
			if b := up[(start+1+rand.IntN(max(k-1, 1)))%k]; b.inFlight() < a.inFlight() {
				return b.pick(), nil
			}
			return a.pick(), nil
		}
		return up[start].pick(), nil
	}
	why := make([]string, n)
	for i, pp := range all {
		why[i] = pp.set.down()
	}
	return nil, NewError(CodeUnavailable, notRun(fmt.Sprintf("%s: no instance is connected: %s", pl.target, strings.Join(why, "; "))))
}

// connectedOf appends to up the connection sets of those of all that are
// connected now, in order.
func connectedOf(up []*hubSet, all []*pooledPeer) []*hubSet {
	for _, pp := range all {
		if pp.set.connected() {
			up = append(up, pp.set)
		}
	}
	return up
}

// awaitPeer is what a call does when Peer fails (failed) finding no
// instance: calls with instances pay nothing more than Peer. On a started
// pool whose resolver follows changes and which has had no instance yet,
// it waits until the first instance connects, ctx ends, the pool's wait
// (WithConnectWait) passes or the pool closes. Otherwise (not started, an
// instance was connected before and all were lost, nothing more can
// come) it fails at once with failed, as Peer does. The caller waits in
// its own goroutine, without polling: the pool wakes it (ready, closing).
func (pl *Pool) awaitPeer(ctx context.Context, failed error) (*Peer, error) {
	if !pl.started.Load() || !pl.follows {
		return nil, failed
	}
	select {
	case <-pl.ready: // published after Peer looked, or had and lost
		return pl.Peer()
	case <-pl.closing:
		return nil, NewError(CodeUnavailable, closedNotRun(fmt.Sprintf("%s: the pool is closed", pl.target)))
	default:
	}
	if ctx.Err() != nil {
		return nil, pl.waitEnded(ctx)
	}
	t := time.NewTimer(pl.wait)
	defer t.Stop()
	select {
	case <-pl.ready:
		return pl.Peer()
	case <-ctx.Done():
		return nil, pl.waitEnded(ctx)
	case <-pl.closing:
		return nil, NewError(CodeUnavailable, notRun(fmt.Sprintf("%s: the pool was closed while the call waited for its first instance to connect", pl.target)))
	case <-t.C:
	}
	msg := fmt.Sprintf("%s: no instance is connected: waited %v (ConnectWait) for the first instance to connect", pl.target, pl.wait)
	pl.mu.Lock()
	if pl.lastErr != "" {
		msg += "; " + pl.lastErr
	}
	pl.mu.Unlock()
	return nil, NewError(CodeUnavailable, notRun(msg))
}

// waitEnded is the error of a call whose context ended while it waited
// for the first instance: its context's error, naming the target and
// saying why no instance is connected yet (an instance whose handshake
// does not answer is still being dialled), rather than a bare "context
// deadline exceeded".
func (pl *Pool) waitEnded(ctx context.Context) error {
	e := asError(ctxError(ctx))
	msg := fmt.Sprintf("%s: no instance is connected yet", pl.target)
	pl.mu.Lock()
	if pl.lastErr != "" {
		msg += " (" + pl.lastErr + ")"
	}
	pl.mu.Unlock()
	return NewError(e.Code(), fmt.Errorf("%s: %w", msg, e.Unwrap()))
}

// noteErr records why no instance is connected yet, for the error of a
// call whose wait for the first one ends without it.
func (pl *Pool) noteErr(why string) {
	pl.mu.Lock()
	pl.lastErr = why
	pl.mu.Unlock()
}

// Addrs returns the addresses of the instances in the pool.
func (pl *Pool) Addrs() []string {
	ps := pl.snap.Load()
	if ps == nil {
		return nil
	}
	out := make([]string, len(*ps))
	for i, pp := range *ps {
		out[i] = pp.addr
	}
	return out
}

// publishLocked makes the current peers the set calls pick from; the
// first time it has one, it wakes the calls waiting for it (awaitPeer).
func (pl *Pool) publishLocked() {
	ps := slices.Clone(pl.peers)
	if old := pl.snap.Load(); old != nil && len(*old) > 0 && len(ps) > 0 && !slices.Equal(*old, ps) {
		pl.next.Store(turnAfter(*old, ps, pl.next.Load()))
	}
	pl.snap.Store(&ps)
	if len(ps) > 0 && !pl.hadPeer {
		pl.hadPeer = true
		close(pl.ready)
	}
}

// turnAfter returns the round-robin count (Pool.next) that has, among the
// instances ps, the one after the instance picked last among old (by the
// count next) come next: the one after it in ps when ps holds it, or else
// the first of those after it in old that ps holds. A change of the
// instances then neither skips one nor gives one two calls in a row.
func turnAfter(old, ps []*pooledPeer, next uint64) uint64 {
	last := int(next % uint64(len(old)))
	if j := slices.Index(ps, old[last]); j >= 0 {
		return uint64(j)
	}
	for k := 1; k < len(old); k++ {
		if j := slices.Index(ps, old[(last+k)%len(old)]); j >= 0 {
			return uint64(j + len(ps) - 1) // the next Add gives j
		}
	}
	return next
}

// set connects to every address, keeping those that answer; it returns
// once every dial has ended, or [startGrace] after one answered: an
// instance that accepts connections but never answers the handshake (a
// process that hangs, whose entry lives until its TTL) does not hold
// Start for the handshake timeout while another serves. The others are
// dialled on meanwhile, until ctx ends or the pool closes. It fails only
// when none answered, with every address's error. Those that did not
// answer are dialled again later (redial).
func (pl *Pool) set(ctx context.Context, addrs []string) error {
	dial := pl.prune(addrs)
	dctx, cancel := context.WithCancel(ctx)
	res := make(chan error, 1)
	pl.done.Go(func() {
		defer cancel()
		errs := pl.dial(dctx, dial)
		select {
		case <-pl.closing: // cut short by Close: nothing to report
			errs = nil
		default:
		}
		res <- pl.dialled(errs)
	})
	pl.done.Go(func() {
		select {
		case <-pl.closing:
			cancel()
		case <-dctx.Done():
		}
	})
	select {
	case err := <-res:
		return err
	case <-pl.ready:
	}
	t := time.NewTimer(startGrace)
	defer t.Stop()
	select {
	case err := <-res:
		return err
	case <-t.C:
		return nil
	}
}

// startGrace is how long Start waits, once an instance has answered, for
// the others it dials: an instance that accepts connections but never
// answers holds Start this long, not the handshake timeout.
const startGrace = time.Second

// dialled reports the errors of a dial: an error, with them all, when no
// instance is connected; a warning in the log when some did not answer.
func (pl *Pool) dialled(errs []error) error {
	pl.mu.Lock()
	none := len(pl.peers) == 0 && len(pl.wanted) > 0
	pl.mu.Unlock()
	if none {
		err := errors.Join(errs...)
		if err != nil {
			pl.noteErr("dialling: " + strings.ReplaceAll(err.Error(), "\n", "; "))
		}
		return err
	}
	if len(errs) > 0 && pl.log != nil {
		pl.log.Warn("some instances of a remote service cannot be reached; dialling them again later", "target", pl.target.String(), "error", errors.Join(errs...))
	}
	return nil
}

// prune makes addrs the instances the pool wants: those that left are
// passed over from now on, and their connections close once their calls
// are answered. It returns the addresses to dial (see dial). An address
// the resolver gives twice (two instances at one address: a process
// restarted on its port while its old entry lives) is one connection
// set, taken once.
func (pl *Pool) prune(addrs []string) []string {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	wanted := make([]string, 0, len(addrs))
	seen := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		if !seen[a] {
			seen[a] = true
			wanted = append(wanted, a)
		}
	}
	have := make(map[string]*pooledPeer, len(pl.peers))
	for _, pp := range pl.peers {
		have[pp.addr] = pp
	}
	var (
		keep []*pooledPeer
		dial []string
	)
	for _, a := range wanted {
		if pp := have[a]; pp != nil {
			keep = append(keep, pp)
			delete(have, a)
		} else {
			dial = append(dial, a)
		}
	}
	for _, pp := range have { // instances that left: no new calls, then closed
		for _, p := range pl.n.hub.release(pp.set) {
			pl.retire(p)
		}
	}
	pl.peers, pl.wanted = keep, wanted
	pl.unreached = slices.DeleteFunc(pl.unreached, func(a string) bool { return !seen[a] })
	pl.publishLocked()
	return pl.claimLocked(dial)
}

// claimLocked returns those of addrs that are not being dialled, marked as
// being dialled: the caller dials them (dial).
func (pl *Pool) claimLocked(addrs []string) []string {
	if pl.dialing == nil {
		pl.dialing = map[string]bool{}
	}
	var out []string
	for _, a := range addrs {
		if !pl.dialing[a] {
			pl.dialing[a] = true
			out = append(out, a)
		}
	}
	return out
}

// dial dials addrs (claimed: claimLocked), each on its own and without
// holding pl.mu (a dial to an address that does not answer lasts until
// ctx ends: it holds neither the other dials, nor the resolver's changes,
// nor Close), and adds each that answers and is still wanted as soon as
// it does; it returns the dial errors. Those that did not answer are
// dialled again later (redial).
func (pl *Pool) dial(ctx context.Context, addrs []string) []error {
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Go(func() {
			set, err := pl.n.hub.acquire(ctx, a)
			pl.mu.Lock()
			defer pl.mu.Unlock()
			delete(pl.dialing, a)
			if err != nil {
				errs[i] = err
				return
			}
			pl.addLocked(set)
		})
	}
	wg.Wait()
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.unreached = slices.DeleteFunc(slices.Clone(pl.wanted), func(a string) bool {
		return pl.dialing[a] || slices.ContainsFunc(pl.peers, func(pp *pooledPeer) bool { return pp.addr == a })
	})
	if len(pl.unreached) > 0 {
		select {
		case pl.missed <- struct{}{}:
		default:
		}
	}
	return slices.DeleteFunc(errs, func(err error) bool { return err == nil })
}

// addLocked adds the connection set s dialled to the peers, in the order
// the resolver gave, unless its address left or was dialled meanwhile.
func (pl *Pool) addLocked(s *hubSet) {
	have := make(map[string]*pooledPeer, len(pl.peers)+1)
	for _, pp := range pl.peers {
		have[pp.addr] = pp
	}
	if have[s.addr] != nil || !slices.Contains(pl.wanted, s.addr) {
		for _, p := range pl.n.hub.release(s) {
			pl.retire(p)
		}
		return
	}
	have[s.addr] = &pooledPeer{addr: s.addr, set: s}
	peers := make([]*pooledPeer, 0, len(have))
	for _, a := range pl.wanted {
		if pp := have[a]; pp != nil {
			peers = append(peers, pp)
		}
	}
	pl.peers = peers
	pl.publishLocked()
}

// Redialling the instances a pool could not reach: first after
// redialFirst, then twice as long each time up to redialMax, for as long
// as some stay unreached. The resolver may say nothing more about them
// (a registry's watch yields changes, and an instance that is down for a
// moment when it appears changes nothing when it comes up).
const (
	redialFirst = 500 * time.Millisecond
	redialMax   = 30 * time.Second
)

// redial dials again, until ctx ends, the addresses the resolver gave that
// could not be dialled. A redial that reaches none of them says nothing
// more than set said.
func (pl *Pool) redial(ctx context.Context) {
	delay := redialFirst
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		pl.mu.Lock()
		missing := len(pl.unreached) > 0
		pl.mu.Unlock()
		if !missing {
			delay = redialFirst
			select {
			case <-ctx.Done():
				return
			case <-pl.missed:
				continue
			}
		}
		t.Reset(delay)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		pl.mu.Lock()
		before := len(pl.unreached)
		addrs := pl.claimLocked(pl.unreached)
		pl.mu.Unlock()
		pl.dial(dctx, addrs)
		cancel()
		pl.mu.Lock()
		after := len(pl.unreached)
		pl.mu.Unlock()
		if after < before && pl.log != nil {
			pl.log.Info("reached instances of a remote service dialled again", "target", pl.target.String(), "reached", before-after, "unreached", after)
		}
		delay = min(delay*2, redialMax)
	}
}

// retire closes a connection no pool uses any more once the calls it carries are
// answered (new calls no longer pick it), or after the request timeout,
// or at once when the pool closes.
func (pl *Pool) retire(p *Peer) {
	pl.retiring.Add(1)
	go func() {
		defer pl.retiring.Done()
		deadline := time.Now().Add(pl.n.cfg.RequestTimeout)
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for p.InFlight() > 0 && time.Now().Before(deadline) {
			select {
			case <-pl.stopping:
				_ = p.Close()
				return
			case <-tk.C:
			}
		}
		_ = p.Close()
	}()
}

// follow keeps the set with the resolver's changes until ctx ends (Close).
// Instances that leave are passed over at once; new ones are dialled in
// the background, so that a dial that hangs does not hold the next
// change.
func (pl *Pool) follow(ctx context.Context, w WatchResolver) {
	pl.done.Go(func() {
		logged := "" // the error of the watch's current run of failures, logged once
		for addrs, err := range w.Watch(ctx, pl.target) {
			if err != nil {
				if ctx.Err() == nil {
					pl.logWatchErr(err, &logged)
				}
				pl.noteErr("the resolver: " + err.Error())
				continue
			}
			logged = ""
			if len(addrs) == 0 {
				pl.noteErr("the resolver gave no instance")
			} else {
				pl.noteErr("the resolver gave " + strings.Join(addrs, ", ") + ", being dialled")
			}
			dial := pl.prune(addrs)
			if len(dial) == 0 {
				continue
			}
			pl.done.Go(func() {
				dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
				defer dcancel()
				errs := pl.dial(dctx, dial)
				if ctx.Err() != nil { // closed
					return
				}
				if err := pl.dialled(errs); err != nil && pl.log != nil {
					pl.log.Warn("no instance of a remote service can be reached", "target", pl.target.String(), "error", err)
				}
			})
		}
	})
}

// logWatchErr logs an error of the resolver's watch once per run of the
// same error (a watch retries while the registry does not answer or does
// not show the service, every half second at first): a service that is
// not registered yet, as while it starts beside its client, at Info; any
// other error at Warn, with the instances the pool keeps meanwhile. The
// repeats go to Debug.
func (pl *Pool) logWatchErr(err error, logged *string) {
	if pl.log == nil {
		return
	}
	msg := err.Error()
	switch {
	case msg == *logged:
		pl.log.Debug("following the instances of a remote service: still failing", "target", pl.target.String(), "error", err)
	case CodeOf(err) == CodeNotFound:
		pl.log.Info("waiting for an instance of a remote service to be registered", "target", pl.target.String(), "error", err)
	default:
		pl.log.Warn("following the instances of a remote service failed; keeping the known ones until it answers", "target", pl.target.String(), "instances", len(pl.Addrs()), "error", err)
	}
	*logged = msg
}

// Close stops following the resolver and closes every connection; the
// calls waiting for the first instance fail at once.
func (pl *Pool) Close() error {
	pl.closeOnce.Do(func() { close(pl.closing) })
	if pl.cancel != nil {
		pl.cancel()
		pl.done.Wait()
	}
	pl.stopOnce.Do(func() { close(pl.stopping) })
	pl.retiring.Wait()
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var errs []error
	for _, pp := range pl.peers {
		for _, p := range pl.n.hub.release(pp.set) {
			errs = append(errs, p.Close())
		}
	}
	pl.peers = nil
	pl.publishLocked()
	return errors.Join(errs...)
}
