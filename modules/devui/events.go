package devui

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// The event feed's own bounds.
const (
	// maxClientMessage bounds a message the page sends on the feed.
	maxClientMessage = 4 << 10
	// feedQueue is how many messages wait for the page at most (and
	// MaxFeedQueue how many bytes); events beyond are dropped, and
	// counted in a {"dropped": N} message.
	feedQueue = 256
	// writeTimeout bounds the write of one message to the page.
	writeTimeout = 10 * time.Second
)

// serveEvents upgrades GET api/events to a WebSocket feed of events. The
// page sends
//
//	{"subscribe": "calculator.*", "token": "..."}   the token is the caller's, as Authorization is elsewhere
//	{"unsubscribe": "calculator.*"}
//
// (subscribing again to a pattern makes the subscription the new
// token's, or ends it when the token is refused), and the feed answers
// {"subscribed": pattern}, {"unsubscribed": pattern}
// or {"error": {"code", "message"}, "pattern": pattern}, and sends each
// event as {"event": {"pattern", "topic", "time", "peer", "payload"}}
// ("payloadError" instead of a payload that has no JSON form or is
// larger than [MaxEventPayload]), and {"dropped": N} when N events were
// left out because the page read too slowly. A feed holds at most
// [MaxSubscriptions] subscriptions; at most [MaxFeeds] feeds are open at
// once. A feed without a subscription for [FeedIdleTimeout] is closed,
// and so is one whose page does not answer its pings
// ([FeedPingInterval]).
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	// Refused here rather than by Accept, which answers in plain text:
	// the API's errors are JSON. A HEAD is answered as a GET without a
	// handshake is.
	if r.Method == http.MethodHead || !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		writeErrorStatus(w, http.StatusUpgradeRequired, netron.Errorf(netron.CodeFailedPrecondition,
			"%s is the event feed, a WebSocket: open it with a WebSocket handshake (Connection: Upgrade, Upgrade: websocket)", r.URL.Path))
		return
	}
	if err := h.sameOrigin(r); err != nil {
		writeError(w, err)
		return
	}
	if err := h.beginFeed(); err != nil {
		writeError(w, err)
		return
	}
	defer h.endFeed()
	// A non-browser client may identify with the header; a page sends
	// its token with each subscription (WebSocket requests carry no
	// Authorization header), which is checked then.
	if _, err := h.caller(r, ""); err != nil {
		writeError(w, err)
		return
	}
	// Accept checks Origin again: the allowed origins are its patterns
	// (scheme://host[:port], without wildcards: matched exactly).
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled, OriginPatterns: h.cfg.originList()})
	if err != nil {
		return
	}
	c.SetReadLimit(maxClientMessage)
	f := &feed{h: h, c: c, r: r, out: make(chan message, feedQueue), subs: map[string]func(){}}
	f.idleSince.Store(time.Now().UnixNano())
	f.run()
}

// headerHasToken reports whether the comma-separated values of the
// header key hold token, in any case.
func headerHasToken(hd http.Header, key, token string) bool {
	for _, v := range hd.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// beginFeed counts a feed open, or refuses it.
func (h *Handler) beginFeed() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return netron.Errorf(netron.CodeUnavailable, "the app is stopping")
	}
	if h.nfeeds >= MaxFeeds {
		return netron.Errorf(netron.CodeResourceExhausted, "%d event monitors are open, the most the development UI serves at once: close one", MaxFeeds)
	}
	h.nfeeds++
	h.feeds.Add(1)
	return nil
}

func (h *Handler) endFeed() {
	h.mu.Lock()
	h.nfeeds--
	h.mu.Unlock()
	h.feeds.Done()
}

// feed is one WebSocket connection of the event monitor.
type feed struct {
	h   *Handler
	c   *websocket.Conn
	r   *http.Request // the upgrade request, for the caller's credentials
	out chan message  // messages to the page; never closed (handlers may run after unsubscribing)

	dropped atomic.Int64
	queued  atomic.Int64      // bytes in out, counted at their capacity
	subs    map[string]func() // by pattern; only the reading goroutine touches it
	// idleSince is when subs last became empty (UnixNano), 0 while it is
	// not; busy is set while the reading goroutine handles a message
	// rather than reads (and so answers no ping). keep reads them.
	idleSince atomic.Int64
	busy      atomic.Bool
}

// run serves the feed until the page or the handler closes it.
func (f *feed) run() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		// A failed write ends the feed: read may be waiting for room in
		// out, which no one empties any more.
		defer cancel()
		f.write(ctx)
	}()
	go func() {
		defer wg.Done()
		f.keep(ctx)
	}()
	f.read(ctx)
	for _, unsubscribe := range f.subs {
		unsubscribe()
	}
	cancel()
	wg.Wait()
	_ = f.c.CloseNow()
}

// keep closes the feed when the handler closes, when the feed has had
// no subscription for the handler's idle bound (a client that opens
// feeds and subscribes on none, or is refused, holds no place of
// MaxFeeds for long), or when the page has not answered a ping by the
// next (it is gone, and would hold its place for ever): until ctx ends.
func (f *feed) keep(ctx context.Context) {
	idle, every := f.h.cfg.feedIdle, f.h.cfg.feedPing
	idleCheck := time.NewTimer(idle)
	defer idleCheck.Stop()
	ping := time.NewTicker(every)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.h.stopped.Done():
			_ = f.c.Close(websocket.StatusGoingAway, "the app is stopping")
			return
		case <-idleCheck.C:
			since := f.idleSince.Load()
			if since == 0 {
				idleCheck.Reset(idle)
				continue
			}
			if left := idle - time.Since(time.Unix(0, since)); left > 0 {
				idleCheck.Reset(left)
				continue
			}
			_ = f.c.Close(websocket.StatusPolicyViolation, "no subscription for "+idle.String())
			return
		case <-ping.C:
			if f.busy.Load() {
				continue // the pong would wait for the reading goroutine
			}
			pctx, cancel := context.WithTimeout(ctx, every)
			unwatch := context.AfterFunc(f.h.stopped, cancel) // not to hold up Close
			err := f.c.Ping(pctx)
			unwatch()
			cancel()
			if err != nil && ctx.Err() == nil && f.h.stopped.Err() == nil {
				f.h.cfg.log.Debug("an event monitor answered no ping: its feed is closed", "error", err)
				_ = f.c.CloseNow()
				return
			}
		}
	}
}

// read handles the page's messages until the connection ends.
func (f *feed) read(ctx context.Context) {
	for {
		typ, b, err := f.c.Read(ctx)
		if err != nil {
			return
		}
		f.busy.Store(true)
		f.handle(ctx, typ, b)
		f.busy.Store(false)
		switch idle := f.idleSince.Load() != 0; {
		case len(f.subs) > 0 && idle:
			f.idleSince.Store(0)
		case len(f.subs) == 0 && !idle:
			f.idleSince.Store(time.Now().UnixNano())
		}
	}
}

// handle handles a message of the page.
func (f *feed) handle(ctx context.Context, typ websocket.MessageType, b []byte) {
	if typ != websocket.MessageText {
		f.reply(ctx, errorMessage(netron.Errorf(netron.CodeInvalidArgument, "send the messages of the event feed as JSON text"), ""))
		return
	}
	m, err := parseClientMessage(b)
	if err != nil {
		f.reply(ctx, errorMessage(err, ""))
		return
	}
	if m.Subscribe != "" {
		f.reply(ctx, f.subscribe(m.Subscribe, m.Token))
		return
	}
	if unsubscribe, ok := f.subs[m.Unsubscribe]; ok {
		unsubscribe()
		delete(f.subs, m.Unsubscribe)
	}
	f.reply(ctx, patternMessage("unsubscribed", m.Unsubscribe))
}

// subscribe subscribes the feed to pattern as the caller of token, and
// returns the answer for the page. A pattern the feed is subscribed to
// already is subscribed to again as the caller of token, checked as a
// new subscription: the one before ends, also when the new one is
// refused (the page then shows none).
func (f *feed) subscribe(pattern, token string) []byte {
	before, again := f.subs[pattern]
	if again {
		// Ended once the new one is made, or refused: no event is missed
		// meanwhile (one emitted at that instant may come twice).
		delete(f.subs, pattern)
		defer before()
	} else if len(f.subs) >= MaxSubscriptions {
		return errorMessage(netron.Errorf(netron.CodeResourceExhausted,
			"the event monitor holds at most %d subscriptions: end one first", MaxSubscriptions), pattern)
	}
	ctx, err := f.h.caller(f.r, token)
	if err != nil {
		return errorMessage(err, pattern)
	}
	unsubscribe, err := f.h.b.Subscribe(ctx, pattern, f.handler(pattern))
	if err != nil {
		return errorMessage(err, pattern)
	}
	f.subs[pattern] = unsubscribe
	return patternMessage("subscribed", pattern)
}

// message is a message for the page: head, then body, when there is
// one. The body of an event's message is its payload's part
// (payloadPart), which the messages of the subscriptions the event
// matches share: it is never changed.
type message struct{ head, body []byte }

// size is what m holds, counted at capacity (a shared body is counted by
// each feed that holds it).
func (m message) size() int64 { return int64(cap(m.head) + cap(m.body)) }

// handler queues the events of the subscription to pattern for the page.
// It never blocks: it may run on the goroutine that emits the event.
func (f *feed) handler(pattern string) netron.EventHandler {
	return func(ctx context.Context, e netron.Event) {
		if len(f.out) == cap(f.out) || f.queued.Load() >= MaxFeedQueue {
			f.dropped.Add(1) // not even rendered
			return
		}
		head := appendEventHead(make([]byte, 0, 96+len(pattern)+len(e.Topic)), pattern, e, time.Now())
		m := message{head: head, body: payloadPart(ctx, e)}
		n := m.size()
		if f.queued.Add(n) > MaxFeedQueue {
			f.queued.Add(-n)
			f.dropped.Add(1)
			return
		}
		select {
		case f.out <- m:
		default:
			f.queued.Add(-n)
			f.dropped.Add(1)
		}
	}
}

// reply queues an answer for the page, waiting for room (answers are
// counted in the queue's bytes, but never dropped).
func (f *feed) reply(ctx context.Context, b []byte) {
	m := message{head: b}
	f.queued.Add(m.size())
	select {
	case f.out <- m:
	case <-ctx.Done():
		f.queued.Add(-m.size())
	}
}

// write sends the queued messages to the page until ctx ends or a write
// fails (which closes the connection, ending read).
func (f *feed) write(ctx context.Context) {
	var buf []byte // a message of two parts, written as one
	send := func(m message) bool {
		b := m.head
		if m.body != nil {
			buf = append(append(buf[:0], m.head...), m.body...)
			b = buf
		}
		wctx, cancel := context.WithTimeout(ctx, f.h.cfg.feedWrite)
		defer cancel()
		err := f.c.Write(wctx, websocket.MessageText, b)
		if cap(buf) > 2*MaxEventPayload {
			buf = nil // not kept for the feed's life after a long topic
		}
		if err != nil {
			_ = f.c.CloseNow()
			return false
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-f.out:
			ok := send(m)
			f.queued.Add(-m.size())
			if !ok {
				return
			}
			if n := f.dropped.Swap(0); n > 0 {
				f.h.cfg.log.Debug("events dropped for a slow event monitor", "dropped", n)
				if !send(message{head: append(strconv.AppendInt([]byte(`{"dropped":`), n, 10), '}')}) {
					return
				}
			}
		}
	}
}

// sharedPayload is the part of an event's messages that its payload
// makes (payloadPart), rendered once for every subscription the event
// matches: a fanout calls their handlers one after the other, with one
// in the context.
type sharedPayload struct {
	part []byte // nil until rendered
}

type sharedPayloadKey struct{}

// withSharedPayload returns ctx carrying a new sharedPayload, for the
// handlers of one event.
func withSharedPayload(ctx context.Context) context.Context {
	return context.WithValue(ctx, sharedPayloadKey{}, &sharedPayload{})
}

// payloadPart returns the end of e's message, from its payload on
// (appendPayload): the one rendered for the handlers of e when ctx
// carries a sharedPayload, else rendered now. It is not to be changed.
func payloadPart(ctx context.Context, e netron.Event) []byte {
	sp, _ := ctx.Value(sharedPayloadKey{}).(*sharedPayload)
	if sp != nil && sp.part != nil {
		return sp.part
	}
	b := appendPayload(nil, e)
	if cap(b) > 2*len(b) {
		// A payload too large to show left its rendering's buffer behind
		// the note that replaced it.
		b = bytes.Clone(b)
	}
	if sp != nil {
		sp.part = b
	}
	return b
}

// appendEventHead appends the start of the feed's message of an event:
// all but its payload (appendPayload).
func appendEventHead(b []byte, pattern string, e netron.Event, at time.Time) []byte {
	b = append(b, `{"event":{"pattern":`...)
	b = protocol.AppendJSONString(b, pattern)
	b = append(b, `,"topic":`...)
	b = protocol.AppendJSONString(b, e.Topic)
	b = append(b, `,"time":"`...)
	b = at.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, '"')
	if e.Peer != nil {
		b = append(b, `,"peer":`...)
		b = protocol.AppendJSONString(b, e.Peer.ID())
	}
	return b
}

// appendPayload appends the end of the feed's message of an event: its
// payload, or why it is left out.
func appendPayload(b []byte, e netron.Event) []byte {
	mark := len(b)
	if n := jsonSizeAtLeast(e.Payload, MaxEventPayload, 0, e.Peer != nil); n > MaxEventPayload {
		// Not rendered whole only to be left out, on the goroutine that
		// emits it.
		b = append(b, `,"payloadError":`...)
		b = protocol.AppendJSONString(b, "the payload is at least "+strconv.Itoa(n)+" bytes of JSON, more than the monitor shows ("+strconv.Itoa(MaxEventPayload)+")")
		return append(b, "}}"...)
	}
	b = append(b, `,"payload":`...)
	start := len(b) // of the payload's JSON
	b, err := protocol.AppendValueJSON(b, e.Payload)
	switch {
	case err != nil:
		b = append(b[:mark], `,"payloadError":`...)
		b = protocol.AppendJSONString(b, "the payload has no JSON form: "+err.Error())
	case len(b)-start > MaxEventPayload:
		n := len(b) - start
		b = append(b[:mark], `,"payloadError":`...)
		b = protocol.AppendJSONString(b, "the payload is "+strconv.Itoa(n)+" bytes of JSON, more than the monitor shows ("+strconv.Itoa(MaxEventPayload)+")")
	}
	return append(b, "}}"...)
}

// jsonSizeAtLeast returns at most the length of the JSON text
// [protocol.AppendValueJSON] writes for v, without writing it: the
// length of its strings, brackets and separators, counted until the
// count passes limit. A Go value of a type the encoder writes by its kind
// (an app's struct, slice or map) is counted by goSizeAtLeast. What it
// does not know the form of counts as nothing; depth is v's nesting. A
// decoded value (an event from a peer) has no invalid UTF-8 in its keys:
// they are not checked.
func jsonSizeAtLeast(v any, limit, depth int, decoded bool) int {
	if depth > protocol.DefaultMaxDepth {
		return 0 // too deep to render at all
	}
	switch x := v.(type) {
	case nil, protocol.Undefined, bool:
		return len("null")
	case string:
		return len(x) + 2 // invalid UTF-8 and escapes only lengthen it
	case json.Number:
		return max(len(x), 1)
	case int, int64, uint64, float64:
		return 1
	case []byte:
		// {"type":"Buffer","data":[...]}, a digit and a comma a byte.
		return len(`{"type":"Buffer","data":[]}`) + max(2*len(x)-1, 0)
	case []any:
		n := len("[]")
		for i, e := range x {
			if n > limit {
				break
			}
			if i > 0 {
				n++
			}
			n += jsonSizeAtLeast(e, limit-n, depth+1, decoded)
		}
		return n
	case protocol.Object:
		if !decoded && slices.ContainsFunc(x, func(f protocol.Field) bool { return !utf8.ValidString(f.Key) }) {
			return len("{}") // replaced, two keys may become one
		}
		n, first := len("{}"), true
		for _, f := range x {
			if n > limit {
				break
			}
			if _, undef := f.Value.(protocol.Undefined); undef {
				continue
			}
			if !first {
				n++
			}
			first = false
			n += len(f.Key) + len(`"":`) + jsonSizeAtLeast(f.Value, limit-n, depth+1, decoded)
		}
		return n
	case map[string]any:
		for k := range x {
			if !utf8.ValidString(k) {
				return len("{}") // as for an Object
			}
		}
		n, first := len("{}"), true
		for k, e := range x {
			if n > limit {
				break
			}
			if _, undef := e.(protocol.Undefined); undef {
				continue
			}
			if !first {
				n++
			}
			first = false
			n += len(k) + len(`"":`) + jsonSizeAtLeast(e, limit-n, depth+1, decoded)
		}
		return n
	case *protocol.TitanError:
		if x == nil {
			return len("null")
		}
		return len(x.Name) + len(x.Message) + len(`{"name":"","message":""}`)
	case protocol.TitanError:
		return len(x.Name) + len(x.Message) + len(`{"name":"","message":""}`)
	case *protocol.JSError:
		if x == nil {
			return len("null")
		}
		return len(x.Name) + len(x.Message) + len(`{"name":"","message":""}`)
	case protocol.JSError:
		return len(x.Name) + len(x.Message) + len(`{"name":"","message":""}`)
	}
	return goSizeAtLeast(reflect.ValueOf(v), limit, depth)
}

// goSizeAtLeast is jsonSizeAtLeast for a Go value, by its kind, as the
// encoder writes it: the fields of a struct it writes
// ([protocol.EncodedFields]), the elements of a slice or an array, the
// entries of a map. A value of a type with an encoding of its own
// ([protocol.OwnEncoding]) counts as ownSizeAtLeast says. A member whose
// value counts as nothing (it may be undefined, and left out with its
// key) counts as nothing, its key included; so do a nil slice or map,
// and a map larger than the encoder writes (it refuses it at once).
func goSizeAtLeast(v reflect.Value, limit, depth int) int {
	if !v.IsValid() || depth > protocol.DefaultMaxDepth {
		return 0
	}
	if protocol.OwnEncoding(v.Type()) {
		return ownSizeAtLeast(v, limit, depth)
	}
	switch v.Kind() {
	case reflect.Bool:
		return len("true")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return 1
	case reflect.String:
		return v.Len() + 2 // invalid UTF-8 and escapes only lengthen it
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return goSizeAtLeast(v.Elem(), limit, depth+1)
	case reflect.Slice:
		if v.IsNil() {
			return 0
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return len(`{"type":"Buffer","data":[]}`) + max(2*v.Len()-1, 0)
		}
		return listSizeAtLeast(v, limit, depth)
	case reflect.Array:
		return listSizeAtLeast(v, limit, depth)
	case reflect.Map:
		if v.IsNil() || v.Len() > math.MaxUint16 {
			return 0
		}
		// The key and the value of each entry, read into these without
		// a copy each.
		key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		if key.Kind() == reflect.String {
			for it := v.MapRange(); it.Next(); {
				if key.SetIterKey(it); !utf8.ValidString(key.String()) {
					return len("{}") // replaced, two keys may become one
				}
			}
		}
		n, first := len("{}"), true
		for it := v.MapRange(); it.Next() && n <= limit; {
			val.SetIterValue(it)
			e := goSizeAtLeast(val, limit-n, depth+1)
			if e == 0 {
				continue
			}
			k := 1 // an integer key's digits
			if key.Kind() == reflect.String {
				key.SetIterKey(it)
				k = key.Len()
			}
			if !first {
				n++
			}
			first = false
			n += k + len(`"":`) + e
		}
		return n
	case reflect.Struct:
		n, first := len("{}"), true
		for _, f := range protocol.EncodedFields(v.Type()) {
			if n > limit {
				break
			}
			fv, ok := f.Value(v)
			if !ok || !utf8.ValidString(f.Name) {
				continue
			}
			e := goSizeAtLeast(fv, limit-n, depth+1)
			if e == 0 {
				continue
			}
			if !first {
				n++
			}
			first = false
			n += len(f.Name) + len(`"":`) + e
		}
		return n
	}
	return 0
}

// ownSizeAtLeast is goSizeAtLeast for a value of a type with an
// encoding of its own: a generic object and the Netron errors as
// jsonSizeAtLeast counts them (an ErrorCause as {"name","message"}), and
// a Go error, sent as a JavaScript Error ({"name":"Error","message":...}),
// by its message. Those can be of any size, in an app's struct as at the
// top. The others count as nothing: Undefined is left out, a time or a
// Long is short, and a RawValue would have to be decoded to be measured.
func ownSizeAtLeast(v reflect.Value, limit, depth int) int {
	if (v.Kind() == reflect.Pointer && v.IsNil()) || !v.CanInterface() {
		return 0
	}
	switch x := v.Interface().(type) {
	case protocol.Object, *protocol.TitanError, protocol.TitanError, *protocol.JSError, protocol.JSError:
		return jsonSizeAtLeast(x, limit, depth, false)
	case *protocol.ErrorCause:
		return len(x.Name) + len(x.Message) + len(`{"name":"","message":""}`)
	case protocol.ErrorCause:
		return len(x.Name) + len(x.Message) + len(`{"name":"","message":""}`)
	case error:
		return len(x.Error()) + len(`{"name":"","message":""}`)
	}
	return 0
}

// listSizeAtLeast is goSizeAtLeast for a slice or an array.
func listSizeAtLeast(v reflect.Value, limit, depth int) int {
	n := len("[]")
	for i := range v.Len() {
		if n > limit {
			break
		}
		if i > 0 {
			n++
		}
		n += goSizeAtLeast(v.Index(i), limit-n, depth+1)
	}
	return n
}

// patternMessage is {"<kind>": pattern}.
func patternMessage(kind, pattern string) []byte {
	b := append([]byte(`{"`), kind...)
	b = append(b, `":`...)
	b = protocol.AppendJSONString(b, pattern)
	return append(b, '}')
}

// errorMessage is {"error": {...}, "pattern": pattern}.
func errorMessage(err error, pattern string) []byte {
	b := appendError([]byte(`{"error":`), err)
	if pattern != "" {
		b = append(b, `,"pattern":`...)
		b = protocol.AppendJSONString(b, pattern)
	}
	return append(b, '}')
}
