package devui_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/devui"
)

// The feed sends the events that match its subscriptions, as they are
// emitted, until they end.
func TestEventFeed(t *testing.T) {
	t.Parallel()
	app, base := startUI(t)
	n := app.Netron()
	f := openFeed(t, base)
	f.subscribe("calc.*", "")
	f.subscribe("calc.*", "") // again: the same subscription

	ctx := context.Background()
	type computed struct {
		Op     string  `json:"op"`
		Result float64 `json:"result"`
	}
	for _, topic := range []string{"other.done", "calc.deep.done", "calc.done"} {
		if err := n.Emit(ctx, topic, computed{Op: "add", Result: 5}); err != nil {
			t.Fatal(err)
		}
	}
	m := f.next()
	ev, _ := m["event"].(map[string]any)
	if ev["topic"] != "calc.done" || ev["pattern"] != "calc.*" {
		t.Fatalf("first event %v, want calc.done (the others do not match calc.*)", m)
	}
	if p, _ := ev["payload"].(map[string]any); p["op"] != "add" || p["result"] != 5.0 {
		t.Errorf("payload %v", ev["payload"])
	}
	if at, err := time.Parse(time.RFC3339, fmt.Sprint(ev["time"])); err != nil || time.Since(at) > time.Minute {
		t.Errorf("time %v: %v", ev["time"], err)
	}

	// A payload too large to show is left out, with a note.
	if err := n.Emit(ctx, "calc.big", strings.Repeat("x", devui.MaxEventPayload)); err != nil {
		t.Fatal(err)
	}
	ev, _ = f.next()["event"].(map[string]any)
	if ev["payload"] != nil || !strings.Contains(fmt.Sprint(ev["payloadError"]), "more than the monitor shows") {
		t.Errorf("a large payload: %v", ev)
	}

	f.send(map[string]any{"unsubscribe": "calc.*"})
	if m := f.next(); m["unsubscribed"] != "calc.*" {
		t.Fatalf("unsubscribe: %v", m)
	}
	if err := n.Emit(ctx, "calc.done", 1); err != nil {
		t.Fatal(err)
	}
	f.subscribe(">", "")
	if err := n.Emit(ctx, "after.all", 2); err != nil {
		t.Fatal(err)
	}
	if ev, _ := f.next()["event"].(map[string]any); ev["topic"] != "after.all" {
		t.Errorf("after unsubscribing from calc.* and subscribing to >: %v, want after.all only", ev)
	}
}

// What the feed refuses, each answered on the feed with its code.
func TestEventFeedRefusals(t *testing.T) {
	t.Parallel()
	_, base := startUI(t)
	f := openFeed(t, base)
	for _, tt := range []struct {
		msg  string
		code string
		text string
	}{
		{`{"subscribe":"a..b"}`, "invalid_argument", "empty token"},
		{`{"subscribe":"a.>.b"}`, "invalid_argument", "last token"},
		{`{"subscribe":"a","unsubscribe":"b"}`, "invalid_argument", "one pattern"},
		{`{}`, "invalid_argument", "one pattern"},
		{`{"subscribe":"` + strings.Repeat("a", 300) + `"}`, "invalid_argument", "300 bytes"},
		{`{"publish":"x"}`, "invalid_argument", "publish"},
		{`not json`, "invalid_argument", "invalid JSON"},
	} {
		if err := f.c.Write(context.Background(), websocket.MessageText, []byte(tt.msg)); err != nil {
			t.Fatal(err)
		}
		m := f.next()
		e, _ := m["error"].(map[string]any)
		if e["code"] != tt.code || !strings.Contains(fmt.Sprint(e["message"]), tt.text) {
			t.Errorf("%s: %v, want %s saying %q", tt.msg, m, tt.code, tt.text)
		}
	}
	if err := f.c.Write(context.Background(), websocket.MessageBinary, []byte(`{"subscribe":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if e, _ := f.next()["error"].(map[string]any); !strings.Contains(fmt.Sprint(e["message"]), "JSON text") {
		t.Errorf("a binary message: %v", e)
	}

	for i := range devui.MaxSubscriptions {
		f.subscribe(fmt.Sprintf("topic.%d", i), "")
	}
	f.send(map[string]any{"subscribe": "one.more"})
	if m := f.next(); m["pattern"] != "one.more" || !strings.Contains(fmt.Sprint(m["error"]), "resource_exhausted") {
		t.Errorf("subscription %d: %v, want resource_exhausted", devui.MaxSubscriptions+1, m)
	}

	// A message larger than the feed reads closes it.
	if err := f.c.Write(context.Background(), websocket.MessageText, []byte(`{"subscribe":"`+strings.Repeat("a", 8<<10)+`"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.read(5 * time.Second); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("an 8 KiB message: %v, want close %d", err, websocket.StatusMessageTooBig)
	}

	// A page of another origin cannot open the feed.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"api/events",
		&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a feed from another origin: %v (%v), want 403", err, res)
	}
}

// At most MaxFeeds feeds are open at once.
func TestEventFeedsBounded(t *testing.T) {
	t.Parallel()
	_, base := startUI(t)
	for range devui.MaxFeeds {
		openFeed(t, base).subscribe("x", "")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"api/events", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("feed %d: %v (%v), want 429", devui.MaxFeeds+1, err, res)
	}
}

// A page that reads too slowly loses events, counted, rather than slowing
// the code that emits them.
func TestSlowPageDropsEvents(t *testing.T) {
	t.Parallel()
	app, base := startUI(t)
	f := openFeed(t, base)
	f.subscribe("flood", "")
	payload := strings.Repeat("y", 32<<10)
	start := time.Now()
	for range 2000 { // ~64 MiB of JSON: more than the socket's buffers hold
		if err := app.Netron().Emit(context.Background(), "flood", payload); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("emitting to a page that does not read took %v", d)
	}
	// Two answers queued after the flood mark its end: the feed sends the
	// count of the events it dropped after the message it sends next, so
	// every count is in before the second answer.
	f.send(map[string]any{"unsubscribe": "end.1"})
	f.send(map[string]any{"unsubscribe": "end.2"})
	events, dropped := 0, 0.0
	for {
		m, err := f.read(10 * time.Second)
		if err != nil {
			t.Fatalf("the feed went quiet before answering after the flood (%d events, %v dropped so far): %v", events, dropped, err)
		}
		if m["unsubscribed"] == "end.2" {
			break
		}
		if m["event"] != nil {
			events++
		}
		if d, ok := m["dropped"].(float64); ok {
			dropped += d
		}
	}
	if dropped == 0 || events+int(dropped) > 2000 || events == 0 {
		t.Errorf("%d events shown, %v dropped, of 2000", events, dropped)
	}
}

// When the app stops, the feeds close with 1001 (going away).
func TestStopClosesFeeds(t *testing.T) {
	t.Parallel()
	app, base := startUI(t)
	f := openFeed(t, base)
	f.subscribe("x", "")
	stopped := make(chan error, 1)
	go func() { stopped <- app.Stop(context.Background()) }()
	_, err := f.read(10 * time.Second)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("the feed ended with %v, want close 1001", err)
	}
	if err := <-stopped; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("stop: %v", err)
	}
}

// A request to the event feed that is no WebSocket handshake, or that
// comes from a page of another origin, is answered as the rest of the
// API answers its errors: {"error": {...}} in JSON.
func TestEventFeedRefusalsAreJSON(t *testing.T) {
	t.Parallel()
	_, base := startUI(t)
	a := get(t, base+"api/events", "")
	a.wantError(t, http.StatusUpgradeRequired, "failed_precondition", "WebSocket")
	if a.header.Get("Upgrade") != "websocket" {
		t.Errorf("a plain GET of the feed: Upgrade %q, want websocket", a.header.Get("Upgrade"))
	}

	req, err := http.NewRequest(http.MethodGet, base+"api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Origin", "http://evil.example")
	do(t, req).wantError(t, http.StatusForbidden, "permission_denied", "evil.example")
}

// The feed shows a payload of up to MaxEventPayload bytes of JSON, and
// says how large the one it leaves out is.
func TestEventFeedPayloadBound(t *testing.T) {
	t.Parallel()
	app, base := startUI(t)
	f := openFeed(t, base)
	f.subscribe("calc.big", "")
	ctx := context.Background()

	// A string of MaxEventPayload-2 characters is MaxEventPayload bytes of
	// JSON, quotes included: shown.
	fits := strings.Repeat("x", devui.MaxEventPayload-2)
	if err := app.Netron().Emit(ctx, "calc.big", fits); err != nil {
		t.Fatal(err)
	}
	if ev, _ := f.next()["event"].(map[string]any); ev["payload"] != fits {
		t.Errorf("a payload of %d bytes of JSON: payloadError %v; want it shown", devui.MaxEventPayload, ev["payloadError"])
	}

	// One byte more is left out, and the note gives its size.
	if err := app.Netron().Emit(ctx, "calc.big", fits+"x"); err != nil {
		t.Fatal(err)
	}
	ev, _ := f.next()["event"].(map[string]any)
	want := fmt.Sprintf("the payload is at least %d bytes of JSON, more than the monitor shows (%d)", devui.MaxEventPayload+1, devui.MaxEventPayload)
	if ev["payload"] != nil || ev["payloadError"] != want {
		t.Errorf("a payload of %d bytes of JSON: payloadError %q, payload of %d bytes; want %q",
			devui.MaxEventPayload+1, ev["payloadError"], len(fmt.Sprint(ev["payload"])), want)
	}
}
