package nats

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/internal/logevery"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Transport is nats:// in the table of schemes. Dialled ([netron.Dial]),
// a connection is a virtual Netron connection that turns the engine's
// packets into NATS requests and the answers back into packets; listened
// on ([netron.Netron.Listen]), it opens a [Gateway] (it is a
// [netron.GatewayOpener]).
type Transport struct{}

func init() { transport.Register(Transport{}) }

// Name returns "nats".
func (Transport) Name() string { return "nats" }

// Schemes returns ["nats"].
func (Transport) Schemes() []string { return []string{"nats"} }

// Capabilities reports a streaming, binary, reconnecting transport whose
// frames are limited by the NATS server's max_payload (1 MiB by default;
// each connection uses the value its server announces).
func (Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{Streaming: true, Binary: true, Reconnection: true, MaxFrameSize: 1 << 20}
}

// Listen refuses: serve on NATS with [netron.Netron.Listen], which opens
// a [Gateway] (OpenGateway).
func (Transport) Listen(context.Context, *url.URL, transport.Options) (transport.Listener, error) {
	return nil, errors.New("natstransport: nats:// is served by Netron.Listen (a gateway), not by a transport listener")
}

// Dial connects to the NATS server of u and returns a virtual connection.
// What NATS reports apart from any request (a slow consumer, a
// permissions violation) is logged on o.Logger (slog.Default without
// one), at most once per 10 s with the count of the others; a call,
// resolve or authenticate task whose publication the server refuses
// fails at once with permission_denied naming the subject, and so do an
// event subscription it refuses and the calls and streams whose credits
// or probes it refuses (see denied).
func (Transport) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	if o.TLS != nil {
		return nil, errors.New("natstransport: Options.TLS is not supported; NATS negotiates TLS with its server")
	}
	cfg, err := parseURL(u)
	if err != nil {
		return nil, err
	}
	c := &clientConn{
		subj:       subjects{cfg.prefix},
		calls:      map[uint32]*pendingCall{},
		streams:    map[uint32]*openStream{},
		insts:      map[string]*instance{},
		events:     map[string]*nats.Subscription{},
		resolved:   map[string]bool{},
		stop:       make(chan struct{}),
		window:     netron.DefaultConfig().StreamWindow,
		addr:       shown(u),
		ackTimeout: cfg.ackTimeout,
		log:        cmp.Or(o.Logger, slog.Default()).With("transport", "nats"),
	}
	c.rcond = sync.NewCond(&c.rmu)
	nc, err := nats.Connect(cfg.servers,
		serverTLS(o.ServerTLS),
		nats.Name("titan client"),
		nats.Timeout(dialTimeout(ctx)),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { c.failAll("the NATS connection was lost") }),
		nats.ClosedHandler(func(*nats.Conn) { c.end(io.EOF) }),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) { c.asyncError(s, err) }),
	)
	if err != nil {
		return nil, fmt.Errorf("natstransport: connect %s: %w", shown(u), err)
	}
	c.nc = nc
	c.inbox = nc.NewInbox()
	c.maxFrame = min(o.FrameLimit(), int(nc.MaxPayload()))
	c.limits = protocol.Limits{MaxFrameSize: c.maxFrame}
	if c.sub, err = nc.Subscribe(c.inbox+".>", c.onInbox); err == nil {
		err = flush(ctx, nc)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("natstransport: subscribe the inbox: %w", err)
	}
	hello, _ := json.Marshal(map[string]any{
		"type": "id", "id": "nats:" + nc.ConnectedServerId(),
		"titan": map[string]int{"v": 1, "window": c.window},
	})
	c.push(hello)
	c.wg.Add(1)
	go c.watch()
	return c, nil
}

// clientConn is the virtual connection of a dialled nats:// peer.
type clientConn struct {
	nc       *nats.Conn
	sub      *nats.Subscription
	subj     subjects
	inbox    string
	addr     string
	maxFrame int
	limits   protocol.Limits
	// ackTimeout is how long a call waits for an ack or an answer (the
	// address's ackTimeout parameter, DefaultAckTimeout without one).
	ackTimeout time.Duration
	log        *slog.Logger
	// errs spaces the records of asyncError.
	errs logevery.Limiter

	// read queue
	rmu    sync.Mutex
	rcond  *sync.Cond
	rq     [][]byte
	rkind  []queued // what each packet of rq is, for the counts below
	rbytes int      // the bytes of rq
	// queuedN and queuedBytes count the packets of rq, and their bytes,
	// by what they are: pushEvent and pushStream bound the events and the
	// stream packets waiting, each kind by its own.
	queuedN, queuedBytes [queuedKinds]int
	rerr                 error // set when the connection ends
	eventN               atomic.Uint32

	mu     sync.Mutex
	caller string // the engine's Netron id, from its client-id message
	window int    // the engine's stream window, from its client-id message
	// windowBytes is its window in bytes (0: none announced).
	windowBytes int64
	nextSID     uint32
	calls       map[uint32]*pendingCall // by the engine's request id
	streams     map[uint32]*openStream  // by stream id
	insts       map[string]*instance
	events      map[string]*nats.Subscription // event name -> subscription
	resolved    map[string]bool               // qualified names handed out by resolve
	// submu makes subscribeEvent one at a time: it tells its own refusal
	// by the connection's last error.
	submu sync.Mutex
	token string // from a successful authenticate; sent with calls and resolves

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// pendingCall is a request waiting for its answer.
type pendingCall struct {
	id       uint32
	typ      protocol.Type
	msg      *nats.Msg // kept to send again after a retry
	target   string
	sid      uint32
	sent     time.Time
	inst     string // the instance that acknowledged or answered
	retries  int
	retrying bool
	token    string // authenticate: the token to keep if it succeeds
	// resolve: the best answer so far.
	best      *protocol.Definition
	bestVer   *semver.Version
	firstErr  []byte
	gathering bool
}

// what names the request in errors: the call of its target, the resolve
// of its target, or the authenticate task.
func (pc *pendingCall) what() string {
	switch {
	case pc.token != "": // the authenticate task, its own target
		return pc.target
	case pc.typ == protocol.TypeTask:
		return "the resolve of " + pc.target
	}
	return "the call of " + pc.target
}

type openStream struct{ inst string }

// instance is the liveness state of an instance holding calls or streams.
type instance struct {
	lastPong  time.Time
	probeSent time.Time // zero when no probe is outstanding
}

// asyncError logs an error NATS reports apart from any request, unless
// one was logged within the last logevery.Interval: a slow consumer drops
// messages, a permissions violation the publications or subscriptions the
// server refused, and nothing else tells of them. A publication refused
// fails at once the requests that went to its subject and were not
// answered (see denied).
func (c *clientConn) asyncError(s *nats.Subscription, err error) {
	c.denied(err)
	write, quiet := c.errs.Allow(time.Now())
	if !write {
		return
	}
	subj := ""
	if s != nil {
		subj = s.Subject
	}
	args := []any{"server", c.addr, "subject", subj, "error", err}
	if quiet > 0 {
		args = append(args, "dropped_since_last_record", quiet)
	}
	c.log.Warn("nats error", args...)
}

// deniedPublish and deniedSubscribe are the NATS server's refusals of a
// publication and of a subscription, their subject quoted as Go quotes it.
var (
	deniedPublish   = regexp.MustCompile(`Permissions Violation for Publish to ("(?:[^"\\]|\\.)*")`)
	deniedSubscribe = regexp.MustCompile(`Permissions Violation for Subscription to ("(?:[^"\\]|\\.)*")`)
)

// deniedSubject returns the subject of err when it is the server's
// refusal that re matches, "" otherwise.
func deniedSubject(re *regexp.Regexp, err error) string {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return ""
	}
	m := re.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	subj, qerr := strconv.Unquote(m[1])
	if qerr != nil {
		return ""
	}
	return subj
}

// refusedSubscription returns the subject of a subscription the server
// refused nc's user since before, nc's last error then: the server
// answers the refusal before the PONG of a flush, and nats.go keeps it
// as the connection's last error only (a subscription it refused would
// receive nothing, and say nothing of it). "" when there is none.
func refusedSubscription(nc *nats.Conn, before error) string {
	if last := nc.LastError(); last != before {
		return deniedSubject(deniedSubscribe, last)
	}
	return ""
}

// denied fails with permission_denied, naming the subject, what cannot
// go on when err is the server's refusal of a publication: the requests
// sent to the refused subject that no instance has acknowledged or
// answered (the server dropped them), the streams of an instance whose
// credit subject it is (no item would come past the window), and the
// calls and streams of an instance whose ping subject it is (none would
// outlive the probe's timeout). They used to wait for the ackTimeout, a
// probe's timeout or the instance's StreamIdleTimeout and fail with
// unavailable. A refused cancel or close leaves nothing waiting here.
func (c *clientConn) denied(err error) {
	subj := deniedSubject(deniedPublish, err)
	if subj == "" {
		return
	}
	why := fmt.Sprintf("the NATS server %s denied this connection's user permission to publish to %q", c.addr, subj)
	var inst, kind string // the instance whose credit or ping subject subj is
	if rest, ok := strings.CutPrefix(subj, c.subj.instance("")); ok {
		inst, kind, _ = strings.Cut(rest, ".")
		if kind != "credit" && kind != "ping" {
			inst, kind = "", ""
		}
	}
	var failed []*pendingCall
	var streams []uint32
	c.mu.Lock()
	for id, pc := range c.calls {
		if pc.inst == "" && !pc.gathering && !pc.retrying && pc.msg.Subject == subj ||
			kind == "ping" && pc.inst == inst {
			failed = append(failed, pc)
			delete(c.calls, id)
		}
	}
	for sid, s := range c.streams {
		if kind != "" && s.inst == inst {
			streams = append(streams, sid)
			delete(c.streams, sid)
		}
	}
	if kind == "ping" {
		delete(c.insts, inst)
	}
	c.mu.Unlock()
	for _, pc := range failed {
		if pc.inst != "" {
			c.control(pc.inst, "cancel", map[string]string{HeaderCall: strconv.FormatUint(uint64(pc.id), 10)}, nil)
			c.push(errorPacket(pc.id, pc.typ, netron.Errorf(netron.CodePermissionDenied, "the instance serving %s cannot be probed: %s", pc.target, why)))
			continue
		}
		c.push(errorPacket(pc.id, pc.typ, netron.Errorf(netron.CodePermissionDenied, "%s was not sent: %s", pc.what(), why)))
	}
	what := "the stream's credits cannot be granted"
	if kind == "ping" {
		what = "the instance serving the stream cannot be probed"
	}
	for _, sid := range streams {
		c.control(inst, "close", map[string]string{HeaderStream: strconv.FormatUint(uint64(sid), 10)}, nil)
		c.push(streamClose(sid, netron.CodePermissionDenied.String()+": "+what+": "+why))
	}
}

// ---- transport.Conn ----

// queued is what a packet waiting for the engine is.
type queued uint8

const (
	// queuedOther: the answers to the engine's own requests, the ends of
	// streams the connection gives up, the hello.
	queuedOther queued = iota
	queuedEvent
	queuedStream
	queuedKinds
)

func (c *clientConn) push(b []byte) {
	c.rmu.Lock()
	if c.rerr == nil {
		c.queue(b, queuedOther)
	}
	c.rmu.Unlock()
}

// queue appends b, a packet of kind k, to the read queue; c.rmu is held.
func (c *clientConn) queue(b []byte, k queued) {
	c.rq = append(c.rq, b)
	c.rkind = append(c.rkind, k)
	c.rbytes += len(b)
	c.queuedN[k]++
	c.queuedBytes[k] += len(b)
	c.rcond.Signal()
}

// maxQueuedEvents and maxQueuedEventBytes bound the events waiting for
// the engine to read them (netron.DefaultConfig's
// MaxQueuedEventsPerPeer and MaxQueuedEventBytesPerPeer): the events of a
// subscription are handed on as fast as NATS delivers them, so without a
// bound a publisher faster than the engine would make the connection hold
// all it publishes, beyond the subscriptions' pending limits.
const (
	maxQueuedEvents     = 1024
	maxQueuedEventBytes = 4 << 20
)

// pushEvent queues an event for the engine, unless maxQueuedEvents
// events or maxQueuedEventBytes of them already wait: it is dropped then,
// as NATS drops what a slow consumer does not take. The other packets
// waiting (answers to the engine's calls, stream items) do not count:
// they would drop events the engine has room for.
func (c *clientConn) pushEvent(b []byte) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	n, bytes := c.queuedN[queuedEvent], c.queuedBytes[queuedEvent]
	full := n >= maxQueuedEvents || n > 0 && bytes+len(b) > maxQueuedEventBytes
	if c.rerr == nil && !full {
		c.queue(b, queuedEvent)
	}
}

// maxQueuedStreamPackets and maxQueuedStreamBytes bound the stream packets
// waiting for the engine to read them (the bytes are
// netron.DefaultConfig's MaxStreamBytesPerPeer): a producer keeps to the
// window the connection announced, but one that does not, or anyone who
// publishes to the inbox, would otherwise make the connection hold all it
// sends, beyond the subscription's pending limits.
const (
	maxQueuedStreamPackets = 64 << 10
	maxQueuedStreamBytes   = 64 << 20
)

// pushStream queues a stream packet for the engine and reports whether it
// did: not when maxQueuedStreamPackets stream packets or
// maxQueuedStreamBytes of them already wait, as NATS refuses what a slow
// consumer does not take. The other packets waiting (answers to the
// engine's calls, events) do not count: a burst of large answers would
// end streams whose items the engine has room for.
func (c *clientConn) pushStream(b []byte) bool {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	n, bytes := c.queuedN[queuedStream], c.queuedBytes[queuedStream]
	if n >= maxQueuedStreamPackets || n > 0 && bytes+len(b) > maxQueuedStreamBytes {
		return false
	}
	if c.rerr == nil {
		c.queue(b, queuedStream)
	}
	return true
}

// ReadMessage returns the next packet for the engine.
func (c *clientConn) ReadMessage() ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.rq) == 0 && c.rerr == nil {
		c.rcond.Wait()
	}
	if len(c.rq) == 0 {
		return nil, c.rerr
	}
	b, k := c.rq[0], c.rkind[0]
	c.rq[0] = nil
	c.rq, c.rkind = c.rq[1:], c.rkind[1:]
	c.rbytes -= len(b)
	c.queuedN[k]--
	c.queuedBytes[k] -= len(b)
	return b, nil
}

// WriteMessages handles the engine's packets in order.
func (c *clientConn) WriteMessages(msgs ...[]byte) error {
	c.rmu.Lock()
	err := c.rerr
	c.rmu.Unlock()
	if err != nil {
		return net.ErrClosed
	}
	for _, m := range msgs {
		if len(m) > 0 {
			c.handle(m)
		}
	}
	return nil
}

// Close closes the NATS connection; pending reads end with net.ErrClosed.
func (c *clientConn) Close() error {
	c.end(net.ErrClosed)
	return nil
}

// end ends the connection once: reads return err after the queued
// messages (io.EOF when the NATS connection closed by itself, so the
// engine dials again).
func (c *clientConn) end(err error) {
	c.closeOnce.Do(func() {
		c.rmu.Lock()
		if errors.Is(err, net.ErrClosed) {
			c.rq, c.rkind, c.rbytes = nil, nil, 0
			c.queuedN, c.queuedBytes = [queuedKinds]int{}, [queuedKinds]int{}
		}
		c.rerr = err
		c.rcond.Broadcast()
		c.rmu.Unlock()
		close(c.stop)
		if errors.Is(err, net.ErrClosed) {
			c.nc.Close()
		}
	})
	if errors.Is(err, net.ErrClosed) {
		c.wg.Wait()
	}
}

// LocalAddr returns the connection's inbox as nats:///<inbox>.
func (c *clientConn) LocalAddr() string { return "nats:///" + c.inbox }

// RemoteAddr returns the dialled URL, without credentials.
func (c *clientConn) RemoteAddr() string { return c.addr }

// ---- from the engine ----

func (c *clientConn) handle(m []byte) {
	if m[0] == '{' {
		var h struct {
			Type  string `json:"type"`
			ID    string `json:"id"`
			Titan *struct {
				Window      int   `json:"window"`
				WindowBytes int64 `json:"windowBytes"`
			} `json:"titan"`
		}
		if json.Unmarshal(m, &h) == nil && h.Type == "client-id" {
			c.mu.Lock()
			c.caller = h.ID
			if h.Titan != nil && h.Titan.Window > 0 {
				c.window = h.Titan.Window
			}
			if h.Titan != nil && h.Titan.WindowBytes > 0 {
				c.windowBytes = h.Titan.WindowBytes
			}
			c.mu.Unlock()
		}
		return
	}
	m = append([]byte(nil), m...) // the engine reuses its buffers
	pkt, payload, err := protocol.SplitPacket(m, protocol.Limits{MaxFrameSize: max(len(m), 1)})
	if err != nil {
		return
	}
	switch pkt.Type {
	case protocol.TypePing:
		if pkt.Impulse {
			c.pong(pkt.ID, payload)
		}
	case protocol.TypeCall:
		switch {
		case !pkt.Impulse:
		case pkt.Error:
			c.cancelCall(pkt.ID)
		default:
			c.call(pkt, payload)
		}
	case protocol.TypeTask:
		if pkt.Impulse {
			c.task(pkt, payload)
		}
	case protocol.TypeStream:
		if !pkt.Impulse {
			c.credit(pkt.StreamID, payload)
		}
	case protocol.TypeStreamClose:
		if !pkt.Impulse {
			c.cancelStream(payload)
		}
	case protocol.TypeGet, protocol.TypeSet:
		if pkt.Impulse {
			c.push(errorPacket(pkt.ID, pkt.Type, netron.Errorf(netron.CodeUnimplemented,
				"%s is not supported: Titan services expose methods only (no properties)", pkt.Type)))
		}
	}
}

func (c *clientConn) pong(id uint32, payload protocol.RawValue) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		if c.nc.FlushWithContext(ctx) == nil {
			b, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: id, Type: protocol.TypePing, Data: payload})
			c.push(b)
		}
	}()
}

func (c *clientConn) call(pkt protocol.Packet, payload protocol.RawValue) {
	fail := func(err error) { c.push(errorPacket(pkt.ID, protocol.TypeCall, err)) }
	if len(payload) > c.maxFrame {
		fail(tooLarge("the request", len(payload), int64(c.maxFrame)))
		return
	}
	elems, err := protocol.SplitArray(payload, nil, c.limits)
	need := 2
	if pkt.Live {
		need = 3
	}
	if err != nil || len(elems) < need {
		fail(netron.Errorf(netron.CodeInvalidArgument, "Invalid request payload: want [definitionId, method, ...args]"))
		return
	}
	var target, method string
	var hdr protocol.CallHeader
	if protocol.Unmarshal(elems[0], &target) != nil {
		fail(netron.Errorf(netron.CodeInvalidArgument, "Definition ID must be a string"))
		return
	}
	if protocol.Unmarshal(elems[1], &method) != nil || !validToken(method) {
		fail(netron.Errorf(netron.CodeInvalidArgument, "Invalid method name"))
		return
	}
	if pkt.Live && hdr.Decode(elems[2], c.limits) != nil {
		fail(netron.Errorf(netron.CodeInvalidArgument, "Invalid call header"))
		return
	}
	name, version, ok := qualifiedParts(target)
	if !ok {
		// Definition ids are per process: over NATS a call names its
		// service, and ids come from this connection's resolve answers.
		fail(netron.Errorf(netron.CodeNotFound, "Definition with id %s not found", target))
		return
	}
	msg := nats.NewMsg(c.subj.call(name, version, method))
	msg.Reply = c.inbox + ".r." + strconv.FormatUint(uint64(pkt.ID), 10)
	msg.Data = appendArray(nil, elems[need:])
	c.mu.Lock()
	c.nextSID++
	if c.nextSID == 0 {
		c.nextSID = 1
	}
	sid := c.nextSID
	msg.Header.Set(HeaderCaller, c.caller)
	msg.Header.Set(HeaderWindow, strconv.Itoa(c.window))
	if c.windowBytes > 0 {
		msg.Header.Set(HeaderWindowBytes, strconv.FormatInt(c.windowBytes, 10))
	}
	c.mu.Unlock()
	msg.Header.Set(HeaderInbox, c.inbox)
	msg.Header.Set(HeaderCall, strconv.FormatUint(uint64(pkt.ID), 10))
	msg.Header.Set(HeaderStream, strconv.FormatUint(uint64(sid), 10))
	if hdr.Timeout > 0 {
		msg.Header.Set(HeaderTimeout, strconv.FormatInt(hdr.Timeout, 10))
	}
	setMetadata(msg, c.withToken(hdr.Metadata))
	pc := &pendingCall{id: pkt.ID, typ: protocol.TypeCall, msg: msg, target: target, sid: sid, sent: time.Now()}
	c.mu.Lock()
	c.calls[pkt.ID] = pc
	c.mu.Unlock()
	c.send(pc)
}

// send publishes a pending request; a failure answers it at once.
func (c *clientConn) send(pc *pendingCall) {
	err := c.nc.PublishMsg(pc.msg)
	if err == nil {
		return
	}
	if errors.Is(err, nats.ErrMaxPayload) {
		// NATS's max_payload counts the headers with the data.
		err = tooLarge("the request", payloadSize(pc.msg), c.nc.MaxPayload())
	} else {
		err = netron.Errorf(netron.CodeUnavailable, "nats: %v", err)
	}
	if c.take(pc.id) == pc {
		c.push(errorPacket(pc.id, pc.typ, err))
	}
}

// payloadSize is what NATS counts of m against max_payload: its data and
// its encoded headers.
func payloadSize(m *nats.Msg) int {
	return m.Size() - len(m.Subject) - len(m.Reply)
}

// take removes and returns the pending request id.
func (c *clientConn) take(id uint32) *pendingCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc := c.calls[id]
	delete(c.calls, id)
	return pc
}

func (c *clientConn) control(inst, kind string, hdr map[string]string, data []byte) {
	m := nats.NewMsg(c.subj.instance(inst) + "." + kind)
	m.Header.Set(HeaderInbox, c.inbox)
	for k, v := range hdr {
		m.Header.Set(k, v)
	}
	m.Data = data
	_ = c.nc.PublishMsg(m)
}

func (c *clientConn) cancelCall(id uint32) {
	pc := c.take(id)
	if pc != nil && pc.inst != "" {
		c.control(pc.inst, "cancel", map[string]string{HeaderCall: strconv.FormatUint(uint64(id), 10)}, nil)
	}
}

func (c *clientConn) credit(sid uint32, payload protocol.RawValue) {
	var n int
	if protocol.Unmarshal(payload, &n) != nil || n <= 0 {
		return
	}
	c.mu.Lock()
	s := c.streams[sid]
	c.mu.Unlock()
	if s != nil {
		c.control(s.inst, "credit", map[string]string{HeaderStream: strconv.FormatUint(uint64(sid), 10)}, []byte(strconv.Itoa(n)))
	}
}

func (c *clientConn) cancelStream(payload protocol.RawValue) {
	var sc struct {
		StreamID uint32 `json:"streamId"`
	}
	if protocol.Unmarshal(payload, &sc) != nil {
		return
	}
	c.mu.Lock()
	s := c.streams[sc.StreamID]
	delete(c.streams, sc.StreamID)
	c.mu.Unlock()
	if s != nil {
		c.control(s.inst, "close", map[string]string{HeaderStream: strconv.FormatUint(uint64(sc.StreamID), 10)}, nil)
	}
}

func (c *clientConn) task(pkt protocol.Packet, payload protocol.RawValue) {
	fail := func(err error) { c.push(errorPacket(pkt.ID, protocol.TypeTask, err)) }
	done := func() {
		b, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: pkt.ID, Type: protocol.TypeTask, Data: protocol.Undefined{}})
		c.push(b)
	}
	elems, err := protocol.SplitArray(payload, nil, c.limits)
	var name, arg string
	if err != nil || len(elems) == 0 || protocol.Unmarshal(elems[0], &name) != nil {
		fail(netron.Errorf(netron.CodeInvalidArgument, "Invalid request payload: want [taskName, ...args]"))
		return
	}
	switch name {
	case netron.TaskQueryInterface, netron.TaskSubscribe, netron.TaskUnsubscribe:
		if len(elems) < 2 || protocol.Unmarshal(elems[1], &arg) != nil {
			fail(netron.Errorf(netron.CodeInvalidArgument, "%s needs a string argument", name))
			return
		}
	}
	switch name {
	case netron.TaskQueryInterface:
		c.resolve(pkt.ID, arg)
	case netron.TaskAuthenticate:
		if len(elems) < 2 {
			fail(netron.Errorf(netron.CodeInvalidArgument, "authenticate needs credentials"))
			return
		}
		c.authenticate(pkt.ID, elems[1])
	case netron.TaskSubscribe:
		if err := c.subscribeEvent(arg); err != nil {
			fail(err)
			return
		}
		done()
	case netron.TaskUnsubscribe:
		c.mu.Lock()
		sub := c.events[arg]
		delete(c.events, arg)
		c.mu.Unlock()
		if sub != nil {
			_ = sub.Unsubscribe()
		}
		done()
	case netron.TaskUnrefService:
		done()
	default:
		fail(netron.Errorf(netron.CodeUnimplemented, "task %s is not supported over nats://", name))
	}
}

// resolve asks every instance serving the target's name for its best
// match and answers with the highest version among the answers that
// arrive within resolveWindow of the first.
func (c *clientConn) resolve(id uint32, target string) {
	t, err := netron.ParseTarget(target)
	if err != nil {
		c.push(errorPacket(id, protocol.TypeTask, netron.NewError(netron.CodeInvalidArgument, err)))
		return
	}
	msg := nats.NewMsg(c.subj.resolve(t.Name))
	msg.Reply = c.inbox + ".q." + strconv.FormatUint(uint64(id), 10)
	msg.Header.Set(HeaderTarget, target)
	setMetadata(msg, c.withToken(nil))
	pc := &pendingCall{id: id, typ: protocol.TypeTask, msg: msg, target: target, sent: time.Now()}
	c.mu.Lock()
	c.calls[id] = pc
	c.mu.Unlock()
	c.send(pc)
}

// authenticate sends the authenticate task to a gateway
// (<p>.authenticate). Its token, on success, goes with the connection's
// later calls (unless a call brings its own "authorization") and resolves;
// a failure leaves the connection anonymous, as on a stream transport.
func (c *clientConn) authenticate(id uint32, creds protocol.RawValue) {
	v, err := protocol.DecodeValue(creds, c.limits)
	tok := tokenOf(v)
	if err != nil || tok == "" {
		c.push(errorPacket(id, protocol.TypeTask, errTokenOnly))
		return
	}
	msg := nats.NewMsg(c.subj.authenticate())
	msg.Reply = c.inbox + ".r." + strconv.FormatUint(uint64(id), 10)
	msg.Data = append([]byte(nil), creds...)
	pc := &pendingCall{id: id, typ: protocol.TypeTask, msg: msg, target: "the authenticate task", token: tok, sent: time.Now()}
	c.mu.Lock()
	msg.Header.Set(HeaderCaller, c.caller)
	c.calls[id] = pc
	c.mu.Unlock()
	c.send(pc)
}

// withToken returns md with the connection's token as its
// "authorization", unless md has one of its own or there is no token; md
// itself is not changed.
func (c *clientConn) withToken(md map[string]string) map[string]string {
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	if _, own := md["authorization"]; tok == "" || own {
		return md
	}
	out := make(map[string]string, len(md)+1)
	maps.Copy(out, md)
	out["authorization"] = "Bearer " + tok
	return out
}

// setMetadata puts md in msg's metadata header, when md holds anything.
func setMetadata(msg *nats.Msg, md map[string]string) {
	if len(md) > 0 {
		b, _ := json.Marshal(md)
		msg.Header.Set(HeaderMetadata, string(b))
	}
}

// authenticated keeps pc's token if the answer b to its authenticate task
// succeeded, and forgets the connection's token otherwise.
func (c *clientConn) authenticated(pc *pendingCall, b []byte) {
	ok := false
	if pkt, err := protocol.DecodePacket(b, c.limits); err == nil && !pkt.Error {
		if o, isObj := pkt.Data.(protocol.Object); isObj {
			v, _ := o.Get("success")
			ok = v == true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.token = pc.token
	} else {
		c.token = ""
	}
}

// subscribeEvent subscribes to the subject of the event topic, once, and
// returns when the NATS server has taken the subscription: the caller
// must not be told it exists before, or an event emitted right after
// would be missed. A subscription the server refuses the connection's
// user fails with permission_denied naming the subject: the server drops
// it with no more than an asynchronous error, and the subscriber would
// wait for events that never come.
func (c *clientConn) subscribeEvent(topic string) error {
	if !validTopic(topic) {
		return netron.Errorf(netron.CodeInvalidArgument, "event name %q cannot be a NATS subject", topic)
	}
	c.submu.Lock()
	defer c.submu.Unlock()
	c.mu.Lock()
	had := c.events[topic] != nil
	c.mu.Unlock()
	if had {
		return nil
	}
	subject := c.subj.event(topic)
	before := c.nc.LastError() // see refusedSubscription
	sub, err := c.nc.Subscribe(subject, func(m *nats.Msg) {
		data := m.Data
		if len(data) == 0 {
			data = []byte{0xc0}
		}
		b, err := protocol.AppendPacket(nil, &protocol.Packet{ID: c.eventN.Add(1), Type: protocol.TypeTask, Impulse: true,
			Data: []any{netron.TaskEmit, topic, protocol.RawValue(data)}})
		if err == nil {
			c.pushEvent(b)
		}
	})
	if err != nil {
		return netron.Errorf(netron.CodeUnavailable, "nats: subscribe %s: %v", topic, err)
	}
	if err := c.nc.FlushTimeout(2 * time.Second); err != nil {
		_ = sub.Unsubscribe()
		return netron.Errorf(netron.CodeUnavailable, "nats: subscribe %s: %v", topic, err)
	}
	if refusedSubscription(c.nc, before) == subject {
		_ = sub.Unsubscribe()
		return netron.Errorf(netron.CodePermissionDenied, "subscribe %s: the NATS server %s denied this connection's user permission to subscribe to %q", topic, c.addr, subject)
	}
	c.mu.Lock()
	c.events[topic] = sub
	c.mu.Unlock()
	return nil
}

// ---- from NATS ----

func isNoResponders(m *nats.Msg) bool {
	return len(m.Data) == 0 && m.Header.Get("Status") == "503"
}

// onInbox handles every message to the connection's inbox:
// <inbox>.r.<id> answers, <inbox>.q.<id> resolve answers, <inbox>.s stream
// packets, <inbox>.p.<instance> probe answers, <inbox>.alive probes.
func (c *clientConn) onInbox(m *nats.Msg) {
	rest := strings.TrimPrefix(m.Subject, c.inbox+".")
	kind, arg, _ := strings.Cut(rest, ".")
	switch kind {
	case "alive":
		if m.Reply != "" {
			_ = m.Respond(nil)
		}
	case "s":
		c.onStreamPacket(m.Data)
	case "p":
		c.onProbe(arg, m)
	case "r", "q":
		id, err := strconv.ParseUint(arg, 10, 32)
		if err != nil {
			return
		}
		if kind == "r" {
			c.onAnswer(uint32(id), m)
		} else {
			c.onResolveAnswer(uint32(id), m)
		}
	}
}

func (c *clientConn) onAnswer(id uint32, m *nats.Msg) {
	inst := m.Header.Get(HeaderInstance)
	c.mu.Lock()
	pc := c.calls[id]
	if pc == nil {
		c.mu.Unlock()
		// Given up already: stop what the instance still does for it.
		switch {
		case inst == "":
		case m.Header.Get(HeaderAck) != "":
			c.control(inst, "cancel", map[string]string{HeaderCall: strconv.FormatUint(uint64(id), 10)}, nil)
		case m.Header.Get(HeaderStream) != "":
			c.control(inst, "close", map[string]string{HeaderStream: m.Header.Get(HeaderStream)}, nil)
		}
		return
	}
	switch {
	case isNoResponders(m):
		delete(c.calls, id)
		stale := c.resolved[pc.target]
		delete(c.resolved, pc.target) // asked again, it is plainly unavailable
		c.mu.Unlock()
		if stale {
			// Resolved from a range earlier: let the engine resolve again.
			c.push(errorPacket(id, pc.typ, netron.Errorf(netron.CodeNotFound, "Definition with id %s not found", pc.target)))
			return
		}
		c.push(errorPacket(id, pc.typ, netron.Errorf(netron.CodeUnavailable, "no instance of %s is serving on NATS", pc.target)))
		return
	case m.Header.Get(HeaderRetry) != "":
		if pc.retrying {
			// A resend is scheduled already: anyone subscribed to the
			// call's subject may answer it, with as many retries as it
			// likes, and each would send the call again.
			c.mu.Unlock()
			return
		}
		pc.retries++
		if pc.retries > maxRetries {
			delete(c.calls, id)
			c.mu.Unlock()
			c.push(errorPacket(id, pc.typ, netron.Errorf(netron.CodeUnavailable, "every instance of %s is shutting down", pc.target)))
			return
		}
		pc.retrying = true
		delay := time.Duration(10<<pc.retries) * time.Millisecond
		c.mu.Unlock()
		time.AfterFunc(delay, func() {
			c.mu.Lock()
			again := c.calls[id] == pc
			if again {
				pc.retrying, pc.sent, pc.inst = false, time.Now(), ""
			}
			c.mu.Unlock()
			if again {
				c.send(pc)
			}
		})
		return
	case m.Header.Get(HeaderAck) != "":
		pc.inst = inst
		c.mu.Unlock()
		return
	}
	delete(c.calls, id)
	bad := malformed(pc, m)
	if s := m.Header.Get(HeaderStream); bad == "" && s != "" && inst != "" {
		c.streams[pc.sid] = &openStream{inst: inst}
	}
	c.mu.Unlock()
	if bad != "" {
		c.push(errorPacket(id, pc.typ, netron.Errorf(netron.CodeInternal, "malformed answer from instance %.64q: %s", inst, bad)))
		return
	}
	b := append([]byte(nil), m.Data...)
	setPacketID(b, id)
	if pc.token != "" {
		c.authenticated(pc, b)
	}
	c.push(b)
}

// malformed says what is wrong with m as the answer to pc, "" when
// nothing is. Anyone subscribed to a request's subject may answer it: the
// answer must be an answer of the request's type, not a request, which
// the engine would serve (calls from the serving side are not supported
// over NATS), nor a packet of another type, which it would take for what
// it is (the end of one of its streams); and the stream id it names
// ([HeaderStream]) must be the call's own, or the answer would take over
// another of the connection's streams.
func malformed(pc *pendingCall, m *nats.Msg) string {
	if len(m.Data) < 5 || m.Data[4]&packetImpulse != 0 || protocol.Type(m.Data[4]&0x0f) != pc.typ {
		return fmt.Sprintf("want a %s answer packet", pc.typ)
	}
	if s := m.Header.Get(HeaderStream); s != "" {
		if sid, err := strconv.ParseUint(s, 10, 32); err != nil || pc.typ != protocol.TypeCall || uint32(sid) != pc.sid {
			return fmt.Sprintf("its %s header %.16q is not the call's stream id %d", HeaderStream, s, pc.sid)
		}
	}
	return ""
}

func (c *clientConn) onResolveAnswer(id uint32, m *nats.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc := c.calls[id]
	if pc == nil {
		return
	}
	if isNoResponders(m) {
		delete(c.calls, id)
		c.push(errorPacket(id, protocol.TypeTask, netron.Errorf(netron.CodeUnavailable, "no instance of %s is serving on NATS", pc.target)))
		return
	}
	pkt, err := protocol.DecodePacket(m.Data, c.limits)
	if err != nil {
		return
	}
	if pkt.Error {
		if pc.firstErr == nil {
			pc.firstErr = append([]byte(nil), m.Data...)
		}
	} else if def, ok := pkt.Data.(*protocol.Definition); ok {
		if v, err := semver.NewVersion(def.MetaString("version")); err == nil && (pc.bestVer == nil || v.GreaterThan(pc.bestVer)) {
			pc.best, pc.bestVer = def, v
		}
	}
	if !pc.gathering {
		pc.gathering = true
		time.AfterFunc(resolveWindow, func() { c.finishResolve(id, pc) })
	}
}

func (c *clientConn) finishResolve(id uint32, pc *pendingCall) {
	c.mu.Lock()
	if c.calls[id] != pc {
		c.mu.Unlock()
		return
	}
	delete(c.calls, id)
	if pc.best != nil {
		c.resolved[pc.best.ID] = true
	}
	c.mu.Unlock()
	if pc.best != nil {
		b, err := protocol.AppendPacket(nil, &protocol.Packet{ID: id, Type: protocol.TypeTask, Data: pc.best})
		if err == nil {
			c.push(b)
			return
		}
	}
	if pc.firstErr != nil {
		setPacketID(pc.firstErr, id)
		c.push(pc.firstErr)
		return
	}
	c.push(errorPacket(id, protocol.TypeTask, netron.Errorf(netron.CodeInternal, "malformed resolve answers for %s", pc.target)))
}

// onStreamPacket forwards a packet of a stream the connection holds and
// forgets a stream that ends; packets of other streams (ended, failed,
// given up) are dropped. An item above the frame limit ends its stream
// with resource_exhausted (the engine could not read it) and stops its
// producer, and so does one that finds the read queue full (see
// pushStream).
func (c *clientConn) onStreamPacket(data []byte) {
	pkt, payload, err := protocol.SplitPacket(data, protocol.Limits{MaxFrameSize: max(len(data), 1), MaxDepth: c.limits.MaxDepth})
	if err != nil {
		return
	}
	sid, ended := pkt.StreamID, pkt.EOS
	switch pkt.Type {
	case protocol.TypeStream:
	case protocol.TypeStreamClose, protocol.TypeStreamError:
		var sc struct {
			StreamID uint32 `json:"streamId"`
		}
		if protocol.Unmarshal(payload, &sc) != nil {
			return
		}
		sid, ended = sc.StreamID, true
	default:
		return
	}
	tooLong := len(data) > c.maxFrame
	c.mu.Lock()
	s := c.streams[sid]
	if s != nil && (ended || tooLong) {
		delete(c.streams, sid)
	}
	c.mu.Unlock()
	switch {
	case s == nil:
		return
	case tooLong:
		err = tooLarge("a stream item", len(data), int64(c.maxFrame))
	case c.pushStream(append([]byte(nil), data...)):
		return
	default:
		c.mu.Lock()
		if c.streams[sid] == s {
			delete(c.streams, sid)
		}
		c.mu.Unlock()
		err = netron.Errorf(netron.CodeResourceExhausted,
			"stream items arrived faster than the engine read them from the nats:// connection (a slow consumer): more than %d packets or %d MiB waited, so the stream ended",
			maxQueuedStreamPackets, maxQueuedStreamBytes>>20)
	}
	c.control(s.inst, "close", map[string]string{HeaderStream: strconv.FormatUint(uint64(sid), 10)}, nil)
	c.push(streamClose(sid, netron.CodeOf(err).String()+": "+netron.MessageOf(err)))
}

// ---- liveness ----

// watch fails calls no instance acknowledged within c.ackTimeout, and
// probes the instances that hold calls or streams.
func (c *clientConn) watch() {
	defer c.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			c.check(now)
		}
	}
}

func (c *clientConn) check(now time.Time) {
	var lost []*pendingCall
	var probe, dead []string
	c.mu.Lock()
	busy := map[string]bool{}
	for _, pc := range c.calls {
		switch {
		case pc.retrying, pc.gathering:
		case pc.inst == "" && now.Sub(pc.sent) > c.ackTimeout:
			lost = append(lost, pc)
		case pc.inst != "" && now.Sub(pc.sent) > probeInterval:
			// A call, or an authenticate task, acknowledged: resolves
			// never are (they gather every instance's answer).
			busy[pc.inst] = true
		}
	}
	for _, s := range c.streams {
		busy[s.inst] = true
	}
	for _, pc := range lost {
		delete(c.calls, pc.id)
	}
	for id, st := range c.insts {
		switch {
		case !st.probeSent.IsZero() && now.Sub(st.probeSent) > probeTimeout:
			dead = append(dead, id)
			delete(c.insts, id)
		case !busy[id] && st.probeSent.IsZero():
			delete(c.insts, id)
		}
	}
	for id := range busy {
		st := c.insts[id]
		if st == nil {
			if slicesContains(dead, id) {
				continue
			}
			st = &instance{}
			c.insts[id] = st
		}
		if st.probeSent.IsZero() && now.Sub(st.lastPong) >= probeInterval {
			st.probeSent = now
			probe = append(probe, id)
		}
	}
	c.mu.Unlock()
	for _, pc := range lost {
		what := "no instance acknowledged " + pc.what()
		if pc.typ == protocol.TypeTask && pc.token == "" {
			what = "no instance answered " + pc.what()
		}
		c.push(errorPacket(pc.id, pc.typ, netron.Errorf(netron.CodeUnavailable, "%s within %v", what, c.ackTimeout)))
	}
	for _, id := range probe {
		m := nats.NewMsg(c.subj.instance(id) + ".ping")
		m.Reply = c.inbox + ".p." + id
		_ = c.nc.PublishMsg(m)
	}
	for _, id := range dead {
		c.instanceLost(id, "stopped answering")
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (c *clientConn) onProbe(id string, m *nats.Msg) {
	if isNoResponders(m) {
		c.mu.Lock()
		delete(c.insts, id)
		c.mu.Unlock()
		c.instanceLost(id, "is gone")
		return
	}
	c.mu.Lock()
	if st := c.insts[id]; st != nil {
		st.probeSent, st.lastPong = time.Time{}, time.Now()
	}
	c.mu.Unlock()
}

// instanceLost fails what waits on a dead instance with unavailable.
func (c *clientConn) instanceLost(id, why string) {
	var calls []*pendingCall
	var streams []uint32
	c.mu.Lock()
	for cid, pc := range c.calls {
		if pc.inst == id {
			calls = append(calls, pc)
			delete(c.calls, cid)
		}
	}
	for sid, s := range c.streams {
		if s.inst == id {
			streams = append(streams, sid)
			delete(c.streams, sid)
		}
	}
	c.mu.Unlock()
	for _, pc := range calls {
		c.push(errorPacket(pc.id, pc.typ, netron.Errorf(netron.CodeUnavailable, "the instance serving %s %s", pc.target, why)))
	}
	for _, sid := range streams {
		c.push(streamClose(sid, "unavailable: the instance serving the stream "+why))
	}
}

// failAll fails every request and stream after the NATS connection
// dropped: their answers cannot arrive.
func (c *clientConn) failAll(why string) {
	c.mu.Lock()
	calls := c.calls
	streams := c.streams
	c.calls = map[uint32]*pendingCall{}
	c.streams = map[uint32]*openStream{}
	c.insts = map[string]*instance{}
	c.mu.Unlock()
	for _, pc := range calls {
		c.push(errorPacket(pc.id, pc.typ, netron.Errorf(netron.CodeUnavailable, "%s", why)))
	}
	for sid := range streams {
		c.push(streamClose(sid, "unavailable: "+why))
	}
}

var _ netron.GatewayOpener = Transport{}
