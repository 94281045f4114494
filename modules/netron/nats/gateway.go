package nats

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
	"golang.org/x/time/rate"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Timing of the protocol (see the package documentation).
const (
	// ackDelay is how long an instance works on a call before it
	// acknowledges it; faster calls are answered without an ack.
	ackDelay = 100 * time.Millisecond
	// DefaultAckTimeout is how long a caller waits for an ack or an answer
	// before it fails the call with unavailable, when its nats:// address
	// has no ackTimeout parameter.
	DefaultAckTimeout = time.Second
	// probeInterval is how often a caller probes an instance that holds
	// its calls or streams; probeTimeout how long it waits for the answer.
	probeInterval = 500 * time.Millisecond
	probeTimeout  = 2 * time.Second
	// resolveWindow is how long a caller collects resolve answers after
	// the first one.
	resolveWindow = 20 * time.Millisecond
	// maxRetries bounds how often a call refused by draining instances is
	// sent again.
	maxRetries = 6
)

// Gateway serves a Netron's services on NATS. [netron.Netron.Listen]
// starts one for a nats:// address.
type Gateway struct {
	n      netron.Engine
	nc     *nats.Conn
	subj   subjects
	id     string
	addr   string
	log    *slog.Logger
	limits protocol.Limits
	window int
	idle   time.Duration
	// maxStreams bounds the streams open for one caller (its inbox), as
	// Config.MaxStreamsPerPeer does for one connection.
	maxStreams int
	// maxInstanceStreams bounds the streams open on the instance, all
	// callers together (instanceStreamsPerPeer times maxStreams): inboxes
	// cost a caller nothing, so the bound per inbox alone would not bound
	// what a caller inventing them makes the instance hold.
	maxInstanceStreams int
	// slots is the number of calls of one service that run at once for
	// one caller (Config.MaxCallsPerPeer; instanceCallsPerPeer times as
	// many for all callers); each service has a callLine of its own, so
	// that a call to another service of the instance, made by a method
	// that holds a slot, never waits behind its caller.
	slots int
	// waiting holds the calls between their arrival and their start, by
	// inbox/call id: true once the caller cancelled one (the method then
	// does not run).
	waiting map[string]bool
	// busy is the answer to a call the line has no room for, encoded once:
	// in a flood it is sent for most calls.
	busy []byte
	// busyRefusals and streamRefusals log what the instance refuses for
	// its own bounds (not a caller's own), at most once per 10 s each.
	busyRefusals, streamRefusals refusals
	// requestTimeout bounds the wait of a call that brings no timeout.
	requestTimeout time.Duration
	// authRunning holds a place for each authenticator running, the one
	// answering now and those that outlived their TaskTimeout
	// (authRunningMax at most in all).
	authRunning chan struct{}
	// resolveRunning does for the access checks of resolves what
	// authRunning does for authenticators (resolveRunningMax at most).
	resolveRunning chan struct{}
	// identifyRunning does for the Access's Identify of calls what
	// authRunning does for authenticators (as many as one service runs
	// calls at once, all callers together, at most).
	identifyRunning chan struct{}
	// methods: qualified name -> wire name -> description; replaced, not
	// changed, when a service is added (read by every call).
	methods atomic.Pointer[map[string]map[string]netron.MethodDesc]

	ctl *nats.Subscription

	mu       sync.Mutex
	subs     []*nats.Subscription // calls and resolves: drained first
	names    map[string]bool      // service names with a resolve subscription
	closed   bool                 // no handler starts any more
	wg       sync.WaitGroup
	draining bool
	calls    map[string]context.CancelCauseFunc // inbox/call -> cancel
	streams  map[string]*sendStream             // inbox/stream -> stream
	// streamsOf counts the streams open by caller inbox.
	streamsOf map[string]int
	stopOnce  sync.Once
	stopErr   error
}

// OpenGateway implements [netron.GatewayOpener]: [netron.Netron.Listen]
// on a nats:// URL serves the Netron's services through the NATS server
// of the URL.
func (Transport) OpenGateway(ctx context.Context, e netron.Engine, u *url.URL) (netron.Gateway, error) {
	return listen(ctx, e, u)
}

// listen connects to the NATS server of u and subscribes the services of n.
func listen(ctx context.Context, n netron.Engine, u *url.URL) (*Gateway, error) {
	cfg, err := parseURL(u)
	if err != nil {
		return nil, err
	}
	log := n.Logger().With("transport", "nats")
	nc, err := nats.Connect(cfg.servers,
		serverTLS(n.ListenOptions("nats").ServerTLS),
		nats.Name("titan "+n.ID()),
		nats.Timeout(dialTimeout(ctx)),
		nats.MaxReconnects(-1),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			subj := ""
			if s != nil {
				subj = s.Subject
			}
			log.Warn("nats error", "subject", subj, "error", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("natstransport: connect %s: %w", shown(u), err)
	}
	cfgN := n.Config()
	g := &Gateway{
		n: n, nc: nc, subj: subjects{cfg.prefix}, id: nuid.Next(), addr: shown(u),
		requestTimeout: cfgN.RequestTimeout,
		log:            log,
		limits:         protocol.Limits{MaxFrameSize: min(cfgN.MaxFrameSize, int(nc.MaxPayload())), MaxDepth: cfgN.MaxDepth},
		window:         cfgN.StreamWindow,
		idle:           cfgN.StreamIdleTimeout,
		maxStreams:     cfgN.MaxStreamsPerPeer,
		slots:          cfgN.MaxCallsPerPeer,
		waiting:        map[string]bool{},
		names:          map[string]bool{},
		calls:          map[string]context.CancelCauseFunc{},
		streams:        map[string]*sendStream{},
		streamsOf:      map[string]int{},
		authRunning:    make(chan struct{}, authRunningMax),
		resolveRunning: make(chan struct{}, resolveRunningMax),
	}
	g.busyRefusals.warn.Interval = refusalLogEvery
	g.streamRefusals.warn.Interval = refusalLogEvery
	// min: no overflow for a huge MaxStreamsPerPeer.
	g.maxInstanceStreams = min(g.maxStreams, math.MaxInt/instanceStreamsPerPeer) * instanceStreamsPerPeer
	bounds := newCallLine(g.slots) // every service's line has these
	g.identifyRunning = make(chan struct{}, bounds.slots)
	g.busy = errorPacket(0, protocol.TypeCall, netron.Errorf(netron.CodeResourceExhausted,
		"instance %s is busy: the service runs all the calls it may at once (%d from one caller, %d in all) and its waiting line is full (at most %d calls, %d from one caller, %d MiB)",
		g.id, g.slots, bounds.slots, bounds.maxWait, bounds.maxCaller, waitingBytes>>20))
	if err := g.subscribe(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return g, nil
}

// flush waits until the server has processed what nc sent, within ctx
// or, when ctx has no deadline, 5 s (nats.go requires one).
func flush(ctx context.Context, nc *nats.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout(ctx))
	defer cancel()
	return nc.FlushWithContext(ctx)
}

func dialTimeout(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return max(time.Until(dl), time.Millisecond)
	}
	return 5 * time.Second
}

func (g *Gateway) subscribe(ctx context.Context) error {
	before := g.nc.LastError() // see refusedSubscription
	g.methods.Store(&map[string]map[string]netron.MethodDesc{})
	g.mu.Lock()
	for _, sd := range g.n.Describe() {
		if _, err := g.add(sd); err != nil {
			g.mu.Unlock()
			return err
		}
	}
	g.mu.Unlock()
	ctl, err := g.nc.Subscribe(g.subj.instance(g.id)+".>", g.onControl)
	if err != nil {
		return fmt.Errorf("natstransport: subscribe %s: %w", g.subj.instance(g.id), err)
	}
	g.ctl = ctl
	auth, err := g.nc.QueueSubscribe(g.subj.authenticate(), g.subj.authenticate(), g.onAuthenticate)
	if err != nil {
		return fmt.Errorf("natstransport: subscribe %s: %w", g.subj.authenticate(), err)
	}
	// Answered one at a time: what waits is bounded, the rest dropped.
	if err := auth.SetPendingLimits(authPendingMsgs, authPendingMsgs*4<<10); err != nil {
		return fmt.Errorf("natstransport: subscribe %s: %w", g.subj.authenticate(), err)
	}
	g.mu.Lock()
	g.subs = append(g.subs, auth)
	g.mu.Unlock()
	if err := flush(ctx, g.nc); err != nil {
		return fmt.Errorf("natstransport: flush subscriptions: %w", err)
	}
	// A refused subscription would leave the instance deaf to what it is
	// meant to serve, and its callers told that nothing serves it.
	if subj := refusedSubscription(g.nc, before); subj != "" {
		return netron.Errorf(netron.CodePermissionDenied, "natstransport: the NATS server denied the gateway's user permission to subscribe to %q", subj)
	}
	g.log.Debug("serving on nats", "instance", g.id, "services", len(*g.methods.Load()))
	return nil
}

// ServiceAdded subscribes a service registered after the gateway started
// (see [netron.ServiceWatcher]); a service it serves already, or one not
// exposed on NATS, is left as it is, and so is everything once the
// gateway is shutting down.
func (g *Gateway) ServiceAdded(ctx context.Context, sd netron.ServiceDesc) error {
	g.mu.Lock()
	if g.draining || g.closed {
		g.mu.Unlock()
		return nil
	}
	added, err := g.add(sd)
	g.mu.Unlock()
	if err != nil || !added || !g.nc.IsConnected() {
		// Disconnected, the subscriptions are sent on reconnecting.
		return err
	}
	if err := flush(ctx, g.nc); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("natstransport: flush subscriptions: %w", err)
	}
	return nil
}

// add subscribes the calls of sd and the resolves of its name, once, and
// reports whether it subscribed anything; g.mu is held.
func (g *Gateway) add(sd netron.ServiceDesc) (bool, error) {
	q := netron.QualifiedName(sd.Name, sd.Version)
	cur := *g.methods.Load()
	if _, ok := cur[q]; ok || !exposedOnNATS(sd.Transports) {
		return false, nil
	}
	// The methods are known before a call or resolve can arrive.
	ms := make(map[string]netron.MethodDesc, len(sd.Methods))
	for _, m := range sd.Methods {
		ms[m.Name] = m
	}
	next := make(map[string]map[string]netron.MethodDesc, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[q] = ms
	g.methods.Store(&next)
	fail := func(err error) (bool, error) {
		g.methods.Store(&cur)
		return false, err
	}
	if !g.names[sd.Name] {
		sub, err := g.nc.Subscribe(g.subj.resolve(sd.Name), g.onResolve)
		if err != nil {
			return fail(fmt.Errorf("natstransport: subscribe %s: %w", g.subj.resolve(sd.Name), err))
		}
		// Answered one at a time, as authenticate requests are: what
		// waits is bounded as theirs is, the rest dropped.
		if err := sub.SetPendingLimits(authPendingMsgs, authPendingMsgs*4<<10); err != nil {
			_ = sub.Unsubscribe()
			return fail(fmt.Errorf("natstransport: subscribe %s: %w", g.subj.resolve(sd.Name), err))
		}
		g.subs = append(g.subs, sub)
		g.names[sd.Name] = true
	}
	group := g.subj.service(sd.Name, sd.Version)
	line := newCallLine(g.slots)
	sub, err := g.nc.QueueSubscribe(group+".*", group, func(m *nats.Msg) { g.onCall(line, m) })
	if err != nil {
		return fail(fmt.Errorf("natstransport: subscribe %s: %w", group, err))
	}
	// onCall never waits, so little is pending; what the line would not
	// take either is dropped by NATS (a slow consumer).
	if err := sub.SetPendingLimits(line.maxWait, waitingBytes); err != nil {
		_ = sub.Unsubscribe()
		return fail(fmt.Errorf("natstransport: subscribe %s: %w", group, err))
	}
	g.subs = append(g.subs, sub)
	return true, nil
}

func exposedOnNATS(transports []string) bool {
	if len(transports) == 0 {
		return true
	}
	for _, t := range transports {
		if t == "nats" {
			return true
		}
	}
	return false
}

// Addr returns the server URL the gateway is connected to, without
// credentials.
func (g *Gateway) Addr() string { return g.addr }

// Capabilities reports what calls over NATS can carry: streams yes,
// calls from the instance back to its callers no.
func (g *Gateway) Capabilities() transport.Capabilities { return Transport{}.Capabilities() }

// Instance returns the gateway's instance id (the token of its control
// subject).
func (g *Gateway) Instance() string { return g.id }

// Shutdown drains the gateway: it unsubscribes the call subjects (NATS
// routes new calls to the other members of the queue groups; calls
// already delivered here are answered with a retry so that the caller
// sends them again, to another instance), waits until the calls and
// streams in flight end or ctx ends (then cancels them, and returns
// without waiting for the methods), and closes the connection.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.stopOnce.Do(func() { g.stopErr = g.shutdown(ctx) })
	return g.stopErr
}

func (g *Gateway) shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.draining = true
	subs := slices.Clone(g.subs) // no subscription is added from now on
	g.mu.Unlock()
	var err error
	for _, s := range subs {
		if derr := s.Drain(); derr != nil && !errors.Is(derr, nats.ErrConnectionClosed) {
			err = errors.Join(err, derr)
		}
	}
	for _, s := range subs {
		for s.IsValid() && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
	}
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Cancelled, the calls end when their methods return; Shutdown
		// does not wait for a method that ignores its context, as Stop
		// does not: the connection closes, and their callers' probes
		// find the instance gone.
		err = errors.Join(err, fmt.Errorf("natstransport: calls still running: %w", ctx.Err()))
		g.cancelAll()
	}
	fctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = g.nc.FlushWithContext(fctx)
	g.nc.Close()
	return err
}

func (g *Gateway) cancelAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	cause := netron.Errorf(netron.CodeUnavailable, "server is shutting down")
	for _, c := range g.calls {
		c(cause)
	}
	for _, s := range g.streams {
		s.cancel(cause)
	}
}

// begin counts a handler, or reports false once the gateway is closed.
func (g *Gateway) begin() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

// instanceStreamsPerPeer is how many times Config.MaxStreamsPerPeer
// streams an instance has open at once, over all its callers: 10,000 with
// the default 1,000, as many as a listener of a stream transport takes
// connections.
const instanceStreamsPerPeer = 10

// openStream records s as the stream sid of the caller inbox; it refuses
// a stream id the caller has open already (invalid_argument), a stream
// over maxStreams for the caller and one over maxInstanceStreams for the
// instance (resource_exhausted).
func (g *Gateway) openStream(inbox, sid string, s *sendStream) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.streams[inbox+"/"+sid] != nil {
		return netron.Errorf(netron.CodeInvalidArgument, "stream id %s is already open for this caller (%s %s)", sid, HeaderInbox, inbox)
	}
	if g.streamsOf[inbox] >= g.maxStreams {
		return netron.Errorf(netron.CodeResourceExhausted, "too many streams from this caller (limit %d)", g.maxStreams)
	}
	if len(g.streams) >= g.maxInstanceStreams {
		g.streamRefusals.add(func(refused int64) {
			g.log.Warn("streams refused: too many open on this NATS instance, all callers together (10 times maxStreamsPerPeer)",
				"instance", g.id, "limit", g.maxInstanceStreams, "refused", refused)
		})
		return netron.Errorf(netron.CodeResourceExhausted,
			"too many streams open on instance %s, all callers together (limit %d, %d times maxStreamsPerPeer)",
			g.id, g.maxInstanceStreams, instanceStreamsPerPeer)
	}
	g.streams[inbox+"/"+sid] = s
	g.streamsOf[inbox]++
	return nil
}

// refusals counts what an instance refuses for its own bounds and logs it
// at most once per refusalLogEvery, with the count since the last log: a
// flood is seen in the log without filling it.
type refusals struct {
	n    atomic.Int64
	warn rate.Sometimes // Interval refusalLogEvery, set by listen
}

// refusalLogEvery is the shortest interval between two logs of one kind
// of refusal.
const refusalLogEvery = 10 * time.Second

// add counts a refusal and, unless one was logged in the last
// refusalLogEvery, calls log with the count.
func (r *refusals) add(log func(refused int64)) {
	r.n.Add(1)
	r.warn.Do(func() { log(r.n.Swap(0)) })
}

// closeStream forgets a stream that openStream recorded.
func (g *Gateway) closeStream(inbox, sid string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.streams, inbox+"/"+sid)
	if g.streamsOf[inbox]--; g.streamsOf[inbox] <= 0 {
		delete(g.streamsOf, inbox)
	}
}

// ---- answering ----

func (g *Gateway) reply(subject string, body []byte, hdr ...string) {
	m := nats.NewMsg(subject)
	m.Header.Set(HeaderInstance, g.id)
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Set(hdr[i], hdr[i+1])
	}
	m.Data = body
	var err error
	size, limit := len(body), int64(g.limits.MaxFrameSize)
	if len(body) > g.limits.MaxFrameSize {
		err = nats.ErrMaxPayload // above the engine's frame limit: the caller could not read it
	} else {
		err = g.nc.PublishMsg(m)
		size, limit = payloadSize(m), g.nc.MaxPayload() // the headers count too
	}
	if errors.Is(err, nats.ErrMaxPayload) && len(body) >= 5 {
		id := uint32(body[0])<<24 | uint32(body[1])<<16 | uint32(body[2])<<8 | uint32(body[3])
		m.Data = errorPacket(id, protocol.Type(body[4]&0x0f), tooLarge("the answer", size, limit))
		err = g.nc.PublishMsg(m)
	}
	if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		g.log.Warn("could not answer", "subject", subject, "error", err)
	}
}

func tooLarge(what string, size int, limit int64) error {
	return netron.Errorf(netron.CodeResourceExhausted, "%s of %d bytes exceeds the limit of %d bytes (the frame limit, or the NATS max_payload if smaller)", what, size, limit)
}

// retry tells the caller to send the request again, to another instance.
func (g *Gateway) retry(msg *nats.Msg) {
	g.reply(msg.Reply, nil, HeaderRetry, "draining")
}

// acker acknowledges a call that runs longer than ackDelay.
type acker struct {
	g     *Gateway
	reply string
	mu    sync.Mutex
	done  bool
	timer *time.Timer
}

func (g *Gateway) newAcker(reply string) *acker {
	a := &acker{g: g, reply: reply}
	a.timer = time.AfterFunc(ackDelay, a.fire)
	return a
}

func (a *acker) fire() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.done {
		a.g.reply(a.reply, nil, HeaderAck, "1")
	}
}

// finish stops the ack; an ack already sent has left before it returns,
// so the caller sees it before the answer.
func (a *acker) finish() {
	a.timer.Stop()
	a.mu.Lock()
	a.done = true
	a.mu.Unlock()
}

// ---- calls ----

// onCall runs a call in a slot of the line, or puts it in line: it never
// waits, so that the subscription's other calls are not held up, and
// never starts more goroutines than there are slots. A call put in line
// is acknowledged at once (its caller probes the instance meanwhile); one
// the line has no room for is refused with resource_exhausted.
func (g *Gateway) onCall(line *callLine, msg *nats.Msg) {
	if msg.Reply == "" {
		return // nobody to answer
	}
	key := callKey(msg.Header)
	g.mu.Lock()
	draining := g.draining
	_, dup := g.waiting[key]
	if !draining && !dup && key != "" {
		g.waiting[key] = false
	}
	g.mu.Unlock()
	switch {
	case draining:
		g.retry(msg)
		return
	case dup:
		g.reply(msg.Reply, errorPacket(0, protocol.TypeCall, netron.Errorf(netron.CodeInvalidArgument,
			"call id %s is already running for this caller (%s %s)", msg.Header.Get(HeaderCall), HeaderInbox, msg.Header.Get(HeaderInbox))))
		return
	}
	c := queuedCall{msg: msg, caller: callerAddr(msg.Header), arrived: time.Now()}
	switch run, queued := line.enter(c); {
	case run && g.begin():
		go g.work(line, c)
	case run:
		g.started(msg)
		g.retry(msg)
		g.handOver(line, c.caller)
	case queued:
		g.reply(msg.Reply, nil, HeaderAck, "1")
	default:
		g.started(msg)
		g.reply(msg.Reply, g.busy)
		g.busyRefusals.add(func(refused int64) {
			g.log.Warn("calls refused: the service runs all the calls it may at once and its waiting line has no room for them on this NATS instance (maxCallsPerPeer)",
				"instance", g.id, "subject", msg.Subject, "slotsPerCaller", g.slots, "slots", line.slots, "refused", refused)
		})
	}
}

// callKey is the inbox/call id of a call, "" when it has none.
func callKey(h nats.Header) string {
	inbox, call := h.Get(HeaderInbox), h.Get(HeaderCall)
	if inbox == "" || call == "" {
		return ""
	}
	return inbox + "/" + call
}

// started takes msg's call out of the calls waiting to start, and reports
// whether its caller cancelled it meanwhile.
func (g *Gateway) started(msg *nats.Msg) (cancelled bool) {
	key := callKey(msg.Header)
	if key == "" {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	cancelled = g.waiting[key]
	delete(g.waiting, key)
	return cancelled
}

// work serves c, which holds a slot, then the calls that wait for the
// slot, until none waits or a stream keeps the goroutine (and has handed
// the slot over).
func (g *Gateway) work(line *callLine, c queuedCall) {
	defer g.wg.Done()
	for {
		held, caller := true, c.caller
		g.serveCall(c, func() {
			if held {
				held = false
				g.handOver(line, caller)
			}
		})
		if !held {
			return
		}
		next, ok := line.leave(caller)
		if !ok {
			return
		}
		c = next
	}
}

// handOver gives up a slot of caller: the next waiting call that may take
// it does, in a goroutine of its own; once the gateway is closed, the
// waiting calls are answered with a retry instead.
func (g *Gateway) handOver(line *callLine, caller string) {
	for {
		next, ok := line.leave(caller)
		if !ok {
			return
		}
		if g.begin() {
			go g.work(line, next)
			return
		}
		g.started(next.msg)
		g.retry(next.msg)
		caller = next.caller
	}
}

// callHeaders are the caller's headers of a call.
type callHeaders struct {
	inbox, call string
	timeout     time.Duration // 0: none
	metadata    map[string]string
	sid         uint32
	window      int
	windowBytes int64
}

// maxTimeoutMillis is the longest [HeaderTimeout] a time.Duration holds
// (about 292 years); a longer one means as much.
const maxTimeoutMillis = int64(math.MaxInt64 / time.Millisecond)

func readCallHeaders(h nats.Header) (callHeaders, error) {
	c := callHeaders{inbox: h.Get(HeaderInbox), call: h.Get(HeaderCall)}
	if s := h.Get(HeaderTimeout); s != "" {
		t, err := strconv.ParseInt(s, 10, 64)
		if errors.Is(err, strconv.ErrRange) && t > 0 {
			err = nil // beyond int64: the longest deadline, as below
		}
		if err != nil || t < 0 {
			return c, fmt.Errorf("bad %s header %q: want the milliseconds left, a whole number from 0", HeaderTimeout, s)
		}
		c.timeout = time.Duration(min(t, maxTimeoutMillis)) * time.Millisecond
	}
	if s := h.Get(HeaderMetadata); s != "" {
		if err := json.Unmarshal([]byte(s), &c.metadata); err != nil {
			return c, fmt.Errorf("bad %s header: %v", HeaderMetadata, err)
		}
	}
	if s := h.Get(HeaderStream); s != "" {
		sid, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return c, fmt.Errorf("bad %s header %q: want the stream id, a whole number from 1 to 4294967295", HeaderStream, s)
		}
		c.sid = uint32(sid)
	}
	if s := h.Get(HeaderWindow); s != "" {
		w, err := strconv.Atoi(s)
		if err != nil || w < 1 {
			return c, fmt.Errorf("bad %s header %q: want the stream window in items, a whole number from 1", HeaderWindow, s)
		}
		c.window = w
	}
	if s := h.Get(HeaderWindowBytes); s != "" {
		w, err := strconv.ParseInt(s, 10, 64)
		if err != nil || w < 1 {
			return c, fmt.Errorf("bad %s header %q: want the stream window in bytes, a whole number from 1", HeaderWindowBytes, s)
		}
		c.windowBytes = w
	}
	if c.inbox != "" && !validTopic(c.inbox) {
		return c, fmt.Errorf("bad %s header %q: want a NATS subject (dot-separated tokens, no wildcards or white space)", HeaderInbox, c.inbox)
	}
	return c, nil
}

// serveCall serves the call of c; release gives up its slot before the
// call ends (a stream, once answered), and may not be called at all.
func (g *Gateway) serveCall(c queuedCall, release func()) {
	msg := c.msg
	defer g.recovered(msg.Reply, protocol.TypeCall, msg.Subject)
	fail := func(err error) { g.reply(msg.Reply, errorPacket(0, protocol.TypeCall, err)) }
	if g.started(msg) {
		fail(netron.Errorf(netron.CodeCanceled, "call cancelled by the caller before it started"))
		return
	}
	g.mu.Lock()
	draining := g.draining
	g.mu.Unlock()
	if draining {
		g.retry(msg) // waited in line: the other instances take it
		return
	}
	qualified, method, ok := g.subj.parseCall(msg.Subject)
	if !ok {
		fail(netron.Errorf(netron.CodeInvalidArgument, "bad call subject %q", msg.Subject))
		return
	}
	hdr, err := readCallHeaders(msg.Header)
	if err != nil {
		fail(netron.NewError(netron.CodeInvalidArgument, err))
		return
	}
	args, err := protocol.SplitArray(msg.Data, nil, g.limits)
	if err != nil {
		fail(netron.Errorf(netron.CodeInvalidArgument, "Invalid request payload: want an array of arguments (%v)", err))
		return
	}
	// The caller's timeout counts from the call's arrival, the wait in line
	// included; a call without one waits at most RequestTimeout.
	if wait, waited := cmp.Or(hdr.timeout, g.requestTimeout), time.Since(c.arrived); waited >= wait {
		fail(netron.Errorf(netron.CodeDeadlineExceeded, "the call waited %v for a slot on instance %s, past its deadline (%v)",
			waited.Round(time.Millisecond), g.id, wait))
		return
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if hdr.timeout > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadline(ctx, c.arrived.Add(hdr.timeout))
		defer stop()
	}
	key := ""
	if hdr.inbox != "" && hdr.call != "" {
		key = hdr.inbox + "/" + hdr.call
		g.mu.Lock()
		_, dup := g.calls[key]
		if !dup {
			g.calls[key] = cancel
		}
		g.mu.Unlock()
		if dup {
			// Taking over the entry would send the first call's cancel to
			// this one, and leave this one uncancellable when the first ends.
			fail(netron.Errorf(netron.CodeInvalidArgument, "call id %s is already running for this caller (%s %s)", hdr.call, HeaderInbox, hdr.inbox))
			return
		}
		defer func() {
			g.mu.Lock()
			delete(g.calls, key)
			g.mu.Unlock()
		}()
	}
	if ctx, err = g.identifyCall(ctx, msg.Header, hdr.metadata, qualified, method); err != nil {
		fail(err)
		return
	}
	inv := &netron.Invocation{Service: qualified, Method: method, Args: args, Metadata: hdr.metadata, Transport: "nats"}
	desc, known := (*g.methods.Load())[qualified][method]
	ack := g.newAcker(msg.Reply)
	if known && desc.Stream {
		g.serveStream(ctx, cancel, msg, hdr, inv, ack, release)
		return
	}
	res, err := g.n.Invoke(ctx, inv)
	ack.finish()
	switch {
	case errors.Is(err, netron.ErrDraining):
		g.retry(msg)
		return
	case err != nil:
		fail(err)
		return
	case known && desc.Void:
		res = protocol.Undefined{}
	}
	b, err := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.TypeCall, Data: res})
	if err != nil {
		g.log.Error("could not encode a result", "service", qualified, "method", method, "error", err)
		fail(netron.Errorf(netron.CodeInternal, "internal error"))
		return
	}
	g.reply(msg.Reply, b)
}

// recovered, deferred by what serves a request, answers it internal when
// serving it panicked, and logs the panic with its stack. The gateway calls
// app code outside the engine's recover (an Access's Identify and Visible),
// on goroutines with no recover above them, where a panic would end the
// process.
func (g *Gateway) recovered(reply string, typ protocol.Type, subject string) {
	r := recover()
	if r == nil {
		return
	}
	g.log.Error("serving a request panicked", "subject", subject, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	g.reply(reply, errorPacket(0, typ, netron.Errorf(netron.CodeInternal, "internal error")))
}

// identify returns ctx carrying the caller whose token a request brings
// in its metadata ("authorization": "Bearer <token>", as a Go peer sends
// it) and the caller's address (callerAddr), ctx itself without an access
// policy. The address is what the policy counts failed tokens and
// anonymous rate limits by: per caller, not for everyone on the bus at
// once. An Identify that returns neither a context nor an error is logged
// and fails the request with internal, as over HTTP.
func (g *Gateway) identify(ctx context.Context, h nats.Header, md map[string]string) (context.Context, error) {
	a := g.n.Access()
	if a == nil {
		return ctx, nil
	}
	addr := callerAddr(h)
	ctx = netron.WithRemoteAddr(ctx, addr)
	ctx, err := a.Identify(ctx, netron.Credentials{Transport: "nats", Token: netron.BearerToken(md["authorization"]), RemoteAddr: addr})
	if err == nil && ctx == nil {
		// As the HTTP gateway does: the request would go on with no
		// context, and panic.
		g.log.Error("the Access's Identify returned no context and no error", "transport", "nats", "remote", addr)
		return nil, netron.Errorf(netron.CodeInternal, "internal error")
	}
	return ctx, err
}

// identifyCall is identify for a call, within the Netron's TaskTimeout,
// as the access checks of a resolve are (see bounded): an Identify that
// has not returned by then fails the call with deadline_exceeded at once,
// and the call gives up its slot, while Identify runs on holding its place
// in identifyRunning. Identify is given the call's ctx, not one that ends
// after TaskTimeout: the context it returns is the call's, which keeps
// the caller's deadline only; ctx ends when the call does, after a timeout
// too.
func (g *Gateway) identifyCall(ctx context.Context, h nats.Header, md map[string]string, qualified, method string) (context.Context, error) {
	if g.n.Access() == nil {
		return ctx, nil
	}
	timeout := g.n.Config().TaskTimeout
	bctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return boundedAs(bctx, g,
		// The call holds a count of g.wg: Shutdown waits for it, and so
		// for the count taken here too.
		func() bool { g.wg.Add(1); return true },
		g.identifyRunning,
		netron.Errorf(netron.CodeDeadlineExceeded, "the Access's Identify did not finish within %v (netron.taskTimeout) for the call of %s.%s",
			timeout, qualified, method),
		func(r any) error {
			g.log.Error("the Access panicked in Identify", "service", qualified, "method", method,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			return netron.Errorf(netron.CodeInternal, "internal error")
		},
		func(context.Context) (context.Context, error) { return g.identify(ctx, h, md) })
}

// callerAddr is the address a request over NATS is counted by: its
// caller's Netron id (HeaderCaller) as nats://<id>, nats://anonymous
// without a usable one.
func callerAddr(h nats.Header) string {
	caller := h.Get(HeaderCaller)
	if !validTopic(caller) {
		caller = "anonymous"
	}
	return "nats://" + caller
}

// ---- authenticating ----

// onAuthenticate answers the authenticate task of a caller over NATS with
// the Netron's authenticator, as POST /netron/authenticate does over HTTP:
// NATS keeps no connection an identity could stay on, so the answer is
// all the gateway keeps of it; the caller sends the token with its later
// calls and resolves. Only a token authenticates: a password would have to
// come with every call. Requests are answered one at a time, in the
// subscription's goroutine, so a flood of them waits in the subscription's
// pending limits (authPendingMsgs; NATS drops the rest) instead of piling
// up goroutines. An authenticator gets the Netron's TaskTimeout, as the
// engine's authenticate task and POST /netron/authenticate do (see
// authenticate).
func (g *Gateway) onAuthenticate(msg *nats.Msg) {
	if msg.Reply == "" {
		return
	}
	fail := func(err error) { g.reply(msg.Reply, errorPacket(0, protocol.TypeTask, err)) }
	auth := g.n.Authenticator()
	if auth == nil {
		fail(netron.NewError(netron.CodeUnavailable, errors.New("Authentication not configured")).
			WithDetails(protocol.Object{{Key: "hint", Value: "configure the security module to set up authentication"}}))
		return
	}
	creds, err := protocol.DecodeValue(msg.Data, g.limits)
	if err != nil {
		fail(netron.Errorf(netron.CodeInvalidArgument, "authenticate: the credentials are not a MessagePack value (%v)", err))
		return
	}
	if tokenOf(creds) == "" {
		fail(errTokenOnly)
		return
	}
	// The caller's Netron id stands for its address: failed attempts are
	// counted per caller, not for everyone on the bus at once.
	timeout := g.n.Config().TaskTimeout
	ctx, cancel := context.WithTimeout(netron.WithRemoteAddr(context.Background(), callerAddr(msg.Header)), timeout)
	defer cancel()
	ack := g.newAcker(msg.Reply)
	res, err := g.authenticate(ctx, timeout, auth, creds)
	ack.finish()
	if err != nil {
		fail(err)
		return
	}
	b, err := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.TypeTask, Data: res})
	if err != nil {
		g.log.Error("could not encode an authentication result", "error", err)
		fail(netron.Errorf(netron.CodeInternal, "internal error"))
		return
	}
	g.reply(msg.Reply, b)
}

// authenticate runs auth within ctx, which ends after timeout (the
// Netron's TaskTimeout), turning a panic of it into an internal error (the
// details only in the log), as the authenticate task of a stream
// connection does. An authenticator that has not returned by then fails
// the attempt with deadline_exceeded, answered at once, and goes on in its
// goroutine, holding its place in authRunning until it returns: the
// requests after it are answered meanwhile, and the gateway holds at most
// authRunningMax authenticators that ignore their context (a request that
// finds no place by its own deadline fails the same way).
func (g *Gateway) authenticate(ctx context.Context, timeout time.Duration, auth netron.Authenticator, creds any) (any, error) {
	return bounded(ctx, g, g.authRunning, authTimedOut(timeout),
		func(r any) error {
			g.log.Error("task panicked", "task", netron.TaskAuthenticate, "panic", fmt.Sprint(r))
			return netron.Errorf(netron.CodeInternal, "internal error")
		},
		func(ctx context.Context) (any, error) { return auth(ctx, nil, creds) })
}

// bounded runs fn within ctx, which ends after the Netron's TaskTimeout,
// in a goroutine holding a place in running until fn returns, and returns
// what fn returned; or, when fn has not returned by then (or finds no
// place in running by then), timedOut at once: fn goes on meanwhile, and
// running bounds the functions that ignore their context. A function that
// fails after ctx ended fails with timedOut too, unless with internal (a
// panic of fn fails with what onPanic returns). Shutdown waits for fn, as
// Stop does for a task.
func bounded[T any](ctx context.Context, g *Gateway, running chan struct{}, timedOut error, onPanic func(r any) error, fn func(context.Context) (T, error)) (T, error) {
	return boundedAs(ctx, g, g.begin, running, timedOut, onPanic, fn)
}

// boundedAs is bounded counting fn's goroutine in g.wg with begin, which
// reports false once the gateway is closed (g.begin, unless the caller
// holds a count already).
func boundedAs[T any](ctx context.Context, g *Gateway, begin func() bool, running chan struct{}, timedOut error, onPanic func(r any) error, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	select {
	case running <- struct{}{}:
	case <-ctx.Done():
		return zero, timedOut
	}
	if !begin() {
		<-running
		return zero, netron.Errorf(netron.CodeUnavailable, "server is shutting down")
	}
	type outcome struct {
		res T
		err error
	}
	done := make(chan outcome, 1) // one send, whatever happens: never blocks
	go func() {
		defer g.wg.Done()
		defer func() { <-running }()
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{err: onPanic(r)}
			}
		}()
		res, err := fn(ctx)
		done <- outcome{res: res, err: err}
	}()
	select {
	case out := <-done:
		if out.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && netron.CodeOf(out.err) != netron.CodeInternal {
			out.err = timedOut
		}
		return out.res, out.err
	case <-ctx.Done():
		return zero, timedOut
	}
}

func authTimedOut(timeout time.Duration) error {
	return netron.Errorf(netron.CodeDeadlineExceeded, "authentication did not finish within %v (netron.taskTimeout)", timeout)
}

// authPendingMsgs bounds the authenticate requests waiting for a gateway,
// and the resolves of each service name (with 4 KiB each of their bytes);
// NATS drops the ones over it, and their callers time out.
const authPendingMsgs = 256

// authRunningMax bounds the authenticators of a gateway running at once: the
// one answering and those still running past their TaskTimeout.
const authRunningMax = 16

// resolveRunningMax bounds the resolves of a gateway whose access checks
// run at once: the one answering and those still running past their
// TaskTimeout.
const resolveRunningMax = 16

// errTokenOnly refuses credentials without a token over NATS.
var errTokenOnly = netron.Errorf(netron.CodeInvalidArgument,
	"authenticate over nats:// takes a token ({token: ...}): NATS keeps no connection for an identity to stay on, so later calls carry the token instead, which they cannot do with a password")

// tokenOf returns the "token" of an authenticate task's credentials
// object, "" when it has none.
func tokenOf(creds any) string {
	o, _ := creds.(protocol.Object)
	v, _ := o.Get("token")
	s, _ := v.(string)
	return s
}

// ---- resolving ----

func (g *Gateway) onResolve(msg *nats.Msg) {
	if msg.Reply == "" {
		return
	}
	defer g.recovered(msg.Reply, protocol.TypeTask, msg.Subject)
	name := strings.TrimPrefix(msg.Subject, g.subj.prefix+".resolve.")
	target := msg.Header.Get(HeaderTarget)
	if target == "" {
		target = name
	}
	fail := func(err error) { g.reply(msg.Reply, errorPacket(0, protocol.TypeTask, err)) }
	t, err := netron.ParseTarget(target)
	if err != nil || t.Name != name {
		fail(netron.Errorf(netron.CodeInvalidArgument, "bad resolve target %.64q", target))
		return
	}
	// The definition is the one the caller may see, as query_interface's
	// on a stream transport: a resolve that brings a token (in its
	// metadata header, as a call does) is identified by it; one without
	// is anonymous.
	hdr, err := readCallHeaders(msg.Header)
	if err != nil {
		fail(netron.Errorf(netron.CodeInvalidArgument, "resolve of %.64q: %v", target, err))
		return
	}
	// The access policy gets the Netron's TaskTimeout, as an authenticator
	// does (see bounded): resolves are answered one at a time, in the
	// subscription's goroutine, and one it holds up holds up the others.
	timeout := g.n.Config().TaskTimeout
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	b, err := bounded(ctx, g, g.resolveRunning,
		netron.Errorf(netron.CodeDeadlineExceeded, "resolving %.64q did not finish within %v (netron.taskTimeout)", target, timeout),
		func(r any) error {
			g.log.Error("serving a request panicked", "subject", msg.Subject, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			return netron.Errorf(netron.CodeInternal, "internal error")
		},
		func(ctx context.Context) ([]byte, error) {
			return g.definition(ctx, msg.Header, hdr.metadata, target, t.Name)
		})
	if err != nil {
		fail(err)
		return
	}
	g.reply(msg.Reply, b)
}

// definition returns the answer to a resolve of target (a target of the
// service name) for the caller of its headers: the definition the caller
// may see, encoded.
func (g *Gateway) definition(ctx context.Context, h nats.Header, md map[string]string, target, name string) ([]byte, error) {
	ctx, err := g.identify(ctx, h, md)
	if err != nil {
		return nil, err
	}
	def, err := g.n.DefinitionFor(ctx, target, "nats")
	if err != nil {
		return nil, err
	}
	version := def.MetaString("version")
	if _, ok := (*g.methods.Load())[netron.QualifiedName(name, version)]; !ok {
		// Not exposed on NATS, or not subscribed yet.
		return nil, netron.ServiceNotFound(target, g.visible(ctx))
	}
	d := *def
	d.ID = netron.QualifiedName(name, version)
	d.PeerID = g.id
	b, err := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.TypeTask, Data: &d})
	if err != nil {
		return nil, netron.Errorf(netron.CodeInternal, "internal error")
	}
	return b, nil
}

// visible returns the qualified names of the services served over NATS
// of which the caller in ctx may call a method, sorted.
func (g *Gateway) visible(ctx context.Context) []string {
	names := slices.Collect(maps.Keys(*g.methods.Load()))
	slices.Sort(names)
	if g.n.Access() == nil {
		return names
	}
	return slices.DeleteFunc(names, func(q string) bool { return len(g.n.VisibleMethods(ctx, q)) == 0 })
}

// ---- control ----

// onControl handles <prefix>.inst.<id>.ping|cancel|credit|close.
func (g *Gateway) onControl(msg *nats.Msg) {
	kind := msg.Subject[strings.LastIndexByte(msg.Subject, '.')+1:]
	inbox := msg.Header.Get(HeaderInbox)
	switch kind {
	case "ping":
		if msg.Reply != "" {
			_ = msg.Respond(nil)
		}
	case "cancel":
		key := inbox + "/" + msg.Header.Get(HeaderCall)
		g.mu.Lock()
		cancel := g.calls[key]
		if _, waits := g.waiting[key]; waits {
			g.waiting[key] = true // it does not run
		}
		g.mu.Unlock()
		if cancel != nil {
			cancel(netron.Errorf(netron.CodeCanceled, "call cancelled by the caller"))
		}
	case "credit", "close":
		g.mu.Lock()
		s := g.streams[inbox+"/"+msg.Header.Get(HeaderStream)]
		g.mu.Unlock()
		if s == nil {
			return
		}
		if kind == "close" {
			s.cancel(netron.Errorf(netron.CodeCanceled, "stream cancelled by the reader"))
			return
		}
		if n, err := strconv.Atoi(string(msg.Data)); err == nil && n > 0 {
			s.credit.Grant(n)
		}
	}
}

// serverTLS gives nats.go the TLS configuration to use when the server
// asks for TLS (its INFO says tls_required); a server that does not is
// spoken to in plain TCP as before. nil leaves nats.go's default (the
// system's roots).
func serverTLS(c *tls.Config) nats.Option {
	return func(o *nats.Options) error {
		if c != nil {
			o.TLSConfig = c.Clone()
		}
		return nil
	}
}
