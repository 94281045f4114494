package devui

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
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
// once.
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
	if err := sameOrigin(r); err != nil {
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
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	c.SetReadLimit(maxClientMessage)
	f := &feed{h: h, c: c, r: r, out: make(chan []byte, feedQueue), subs: map[string]func(){}}
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
	out chan []byte   // messages to the page; never closed (handlers may run after unsubscribing)

	dropped atomic.Int64
	queued  atomic.Int64      // bytes in out, counted at their capacity
	subs    map[string]func() // by pattern; only the reading goroutine touches it
}

// run serves the feed until the page or the handler closes it.
func (f *feed) run() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		f.write(ctx)
	}()
	go func() {
		defer wg.Done()
		select {
		case <-f.h.stopped:
			_ = f.c.Close(websocket.StatusGoingAway, "the app is stopping")
		case <-ctx.Done():
		}
	}()
	f.read(ctx)
	for _, unsubscribe := range f.subs {
		unsubscribe()
	}
	cancel()
	wg.Wait()
	_ = f.c.CloseNow()
}

// read handles the page's messages until the connection ends.
func (f *feed) read(ctx context.Context) {
	for {
		typ, b, err := f.c.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			f.reply(ctx, errorMessage(netron.Errorf(netron.CodeInvalidArgument, "send the messages of the event feed as JSON text"), ""))
			continue
		}
		m, err := parseClientMessage(b)
		if err != nil {
			f.reply(ctx, errorMessage(err, ""))
			continue
		}
		if m.Subscribe != "" {
			f.reply(ctx, f.subscribe(m.Subscribe, m.Token))
			continue
		}
		if unsubscribe, ok := f.subs[m.Unsubscribe]; ok {
			unsubscribe()
			delete(f.subs, m.Unsubscribe)
		}
		f.reply(ctx, patternMessage("unsubscribed", m.Unsubscribe))
	}
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

// handler queues the events of the subscription to pattern for the page.
// It never blocks: it may run on the goroutine that emits the event.
func (f *feed) handler(pattern string) netron.EventHandler {
	return func(_ context.Context, e netron.Event) {
		if len(f.out) == cap(f.out) || f.queued.Load() >= MaxFeedQueue {
			f.dropped.Add(1) // not even rendered
			return
		}
		b := appendEvent(make([]byte, 0, 256), pattern, e, time.Now())
		if cap(b) > 2*len(b) {
			// A payload too large to show left its rendering's buffer
			// behind the note that replaced it.
			b = bytes.Clone(b)
		}
		n := int64(cap(b))
		if f.queued.Add(n) > MaxFeedQueue {
			f.queued.Add(-n)
			f.dropped.Add(1)
			return
		}
		select {
		case f.out <- b:
		default:
			f.queued.Add(-n)
			f.dropped.Add(1)
		}
	}
}

// reply queues an answer for the page, waiting for room (answers are
// counted in the queue's bytes, but never dropped).
func (f *feed) reply(ctx context.Context, b []byte) {
	f.queued.Add(int64(cap(b)))
	select {
	case f.out <- b:
	case <-ctx.Done():
		f.queued.Add(-int64(cap(b)))
	}
}

// write sends the queued messages to the page until ctx ends or a write
// fails (which closes the connection, ending read).
func (f *feed) write(ctx context.Context) {
	send := func(b []byte) bool {
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		if err := f.c.Write(wctx, websocket.MessageText, b); err != nil {
			_ = f.c.CloseNow()
			return false
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-f.out:
			ok := send(b)
			f.queued.Add(-int64(cap(b)))
			if !ok {
				return
			}
			if n := f.dropped.Swap(0); n > 0 {
				f.h.cfg.log.Debug("events dropped for a slow event monitor", "dropped", n)
				if !send(append(strconv.AppendInt([]byte(`{"dropped":`), n, 10), '}')) {
					return
				}
			}
		}
	}
}

// appendEvent appends the feed's message of an event.
func appendEvent(b []byte, pattern string, e netron.Event, at time.Time) []byte {
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
	mark := len(b)
	if n := jsonSizeAtLeast(e.Payload, MaxEventPayload, 0, e.Peer != nil); n > MaxEventPayload {
		// Not rendered whole only to be left out: an event is rendered
		// for each subscription, on the goroutine that emits it.
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
// count passes limit. What it does not know the form of counts as
// nothing; depth is v's nesting. A decoded value (an event from a peer)
// has no invalid UTF-8 in its keys: they are not checked.
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
	return 0
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
