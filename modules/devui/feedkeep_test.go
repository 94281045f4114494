package devui_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/titantest"
)

// feedUI serves the UI of an app's Netron with the event feed's idle
// bound and ping interval given, and returns its URL.
func feedUI(t *testing.T, idle, ping time.Duration) (*titantest.App, string) {
	t.Helper()
	app, _, base := feedHandler(t, idle, ping, 0)
	return app, base
}

// feedHandler serves the UI of an app's Netron with the event feed's
// bounds given (0: the default), and returns its handler and URL.
func feedHandler(t *testing.T, idle, ping, write time.Duration) (*titantest.App, *devui.Handler, string) {
	t.Helper()
	app := titanApp(t)
	h := devui.NewHandler(devui.Local(app.Netron(), nil), devui.WithFeedTimeouts(idle, ping, write))
	srv := httptest.NewServer(devui.Standalone(h))
	t.Cleanup(func() {
		if t.Failed() {
			return // a feed that does not end would hold them up for ever
		}
		h.Close()
		srv.Close()
	})
	return app, h, srv.URL + devui.BasePath
}

// A feed that no one subscribes on is closed after the idle bound,
// saying why: a client cannot hold the places of MaxFeeds with feeds it
// opens and leaves.
func TestIdleFeedClosed(t *testing.T) {
	t.Parallel()
	_, base := feedUI(t, 200*time.Millisecond, time.Minute)
	f := openFeed(t, base)
	f.send(map[string]any{"subscribe": "calc.>"})
	if m := f.next(); m["subscribed"] != "calc.>" {
		t.Fatalf("subscribe: %v", m)
	}
	// While it has a subscription, the feed stays; once it has none, the
	// bound runs from then.
	f.send(map[string]any{"unsubscribe": "calc.>"})
	if m := f.next(); m["unsubscribed"] != "calc.>" {
		t.Fatalf("unsubscribe: %v", m)
	}
	m, err := f.read(3 * time.Second)
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("the feed without a subscription is still open after 3 s (read %v, %v); want it closed after 200ms", m, err)
	}
	if ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "no subscription for 200ms") {
		t.Errorf("the feed closed with %d %q; want 1008 saying it had no subscription for 200ms", ce.Code, ce.Reason)
	}
}

// A feed whose page answers no ping (its machine or network is gone) is
// closed, its subscriptions with it, rather than kept for ever.
func TestSilentFeedClosed(t *testing.T) {
	t.Parallel()
	_, base := feedUI(t, time.Minute, 100*time.Millisecond)
	// A client that does the handshake and subscribes, then reads what
	// comes without answering: as a page gone with its network is.
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	req, err := http.NewRequest(http.MethodGet, base+"api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", key)
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, req)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", res, err)
	}
	// A masked text frame (the mask of zeros leaves the payload as is).
	msg := `{"subscribe":"calc.>"}`
	if _, err := conn.Write(append([]byte{0x81, 0x80 | byte(len(msg)), 0, 0, 0, 0}, msg...)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = io.Copy(io.Discard, br) // the answer and the pings, until the server closes
	if err != nil {
		t.Errorf("the feed of a client that answers no ping is still open after 3 s (%v); want it closed after about 200ms", err)
	}
}

// A page that answers the pings keeps its feed, however many pass.
func TestAnsweringFeedKept(t *testing.T) {
	t.Parallel()
	app, base := feedUI(t, time.Minute, 100*time.Millisecond)
	f := openFeed(t, base)
	f.subscribe("calc.done", "")
	// Reading answers the pings (a read that times out closes the
	// connection: this one does not).
	type read struct {
		b   []byte
		err error
	}
	got := make(chan read, 1)
	go func() {
		_, b, err := f.c.Read(context.Background())
		got <- read{b, err}
	}()
	select {
	case r := <-got:
		t.Fatalf("read %s, %v; want nothing before the event", r.b, r.err)
	case <-time.After(600 * time.Millisecond): // some 6 pings
	}
	if err := app.Netron().Emit(context.Background(), "calc.done", "sum"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.err != nil || !strings.Contains(string(r.b), `"payload":"sum"`) {
			t.Errorf("after the pings, read %s, %v; want the event", r.b, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the event did not come within 5 s")
	}
}

// A page that stops reading while the feed holds as many messages for it
// as it may, and sends one more message of its own, loses its feed when a
// write to it times out: the feed ends, and so does the handler's Close,
// rather than waiting for room for the answer for ever.
func TestStuckFeedEnds(t *testing.T) {
	t.Parallel()
	app, h, base := feedHandler(t, 0, 0, 300*time.Millisecond)
	f := openFeed(t, base)
	f.subscribe("calc.done", "")
	// Far more than the connection's buffers hold: the feed's queue
	// fills, and its writer waits for the page.
	payload := strings.Repeat("x", 1<<10)
	for range 30000 {
		if err := app.Netron().Emit(context.Background(), "calc.done", payload); err != nil {
			t.Fatal(err)
		}
	}
	f.send(map[string]any{"subscribe": "calc.other"}) // its answer finds no room
	time.Sleep(100 * time.Millisecond)                // for the feed to read it: nothing tells
	closed := make(chan struct{})
	go func() {
		h.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("Close still waits after 3 s for the feed of a page that stopped reading (its writes time out after 300ms)")
	}
}
