package devui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/titantest"
)

// remoteUI serves the UI of the app reached through p, as titan dev does,
// and returns its URL.
func remoteUI(t *testing.T, p *netron.Peer, addr string) string {
	t.Helper()
	h := devui.NewHandler(devui.Remote(p, addr))
	srv := httptest.NewServer(devui.Standalone(h))
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return srv.URL + devui.BasePath
}

// The UI of a remote app, reached through a peer: the same services and
// contracts as the app's own UI shows, its calls, streams and events.
func TestRemote(t *testing.T) {
	t.Parallel()
	app, local := startUI(t, "netron.listen=http://127.0.0.1:0,tcp://127.0.0.1:0")
	addr := app.Addr(t, "tcp")
	base := remoteUI(t, titantest.Dial(t, addr), addr)

	info := get(t, base+"api/info", "").object(t)
	if info["app"] != addr || info["remote"] != true || info["patterns"] != false {
		t.Errorf("api/info: %v", info)
	}

	// The definitions carry what the app's own Describe does.
	var remote, own []devui.Service
	for _, x := range []struct {
		url string
		out *[]devui.Service
	}{{base, &remote}, {local, &own}} {
		if err := json.Unmarshal(get(t, x.url+"api/services", "").body, x.out); err != nil {
			t.Fatal(err)
		}
	}
	if len(remote) != 1 || len(own) != 1 || len(remote[0].Methods) != len(own[0].Methods) {
		t.Fatalf("remote %+v, own %+v", remote, own)
	}
	for i, m := range remote[0].Methods {
		o := own[0].Methods[i]
		if m.Name != o.Name || m.Stream != o.Stream || m.Void != o.Void || !sameJSON(t, m.Input, o.Input) || !sameJSON(t, m.Output, o.Output) {
			t.Errorf("method %d: remote %+v, own %+v", i, m, o)
		}
	}

	if a := call(t, base, "", "calc@1.0.0", "add", 2, 3); a.status != 200 || !strings.HasPrefix(string(a.body), `{"result":5,`) {
		t.Errorf("add: %d %s", a.status, a.body)
	}
	if a := call(t, base, "", "calc@1.0.0", "reset"); a.status != 200 || !strings.HasPrefix(string(a.body), `{"result":null,`) {
		t.Errorf("reset: %d %s", a.status, a.body)
	}
	call(t, base, "", "calc@1.0.0", "div", 1, 0).wantError(t, 400, "invalid_argument", "division by zero")
	call(t, base, "", "calc@1.0.0", "add", "two", 3).wantError(t, 400, "invalid_argument", "argument 1 (a)")
	ls := lines(t, post(t, base+"api/stream", `{"service":"calc@1.0.0","method":"count","args":[3]}`))
	if len(ls) != 4 || ls[1]["item"] != 1.0 || ls[3]["end"] != true {
		t.Errorf("count 3: %v", ls)
	}

	f := openFeed(t, base)
	f.send(map[string]any{"subscribe": "calc.*"})
	if m := f.next(); !strings.Contains(fmt.Sprint(m["error"]), "exactly") {
		t.Errorf("a pattern on a remote app: %v, want an error saying events are named exactly", m)
	}
	f.subscribe("calc.done", "")
	if err := app.Netron().Emit(context.Background(), "calc.done", map[string]any{"op": "add"}); err != nil {
		t.Fatal(err)
	}
	ev, _ := f.next()["event"].(map[string]any)
	if ev["topic"] != "calc.done" || ev["peer"] != app.Netron().ID() || fmt.Sprint(ev["payload"]) != "map[op:add]" {
		t.Errorf("the remote's event: %v", ev)
	}

	var peers []devui.PeerInfo
	if err := json.Unmarshal(get(t, base+"api/peers", "").body, &peers); err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 || !peers[0].Dialled || peers[0].Transport != "tcp" || peers[0].ID != app.Netron().ID() {
		t.Errorf("peers: %+v", peers)
	}
	var g devui.Glance
	if err := json.Unmarshal(get(t, base+"api/metrics", "").body, &g); err != nil {
		t.Fatal(err)
	}
	if g.Available || !strings.Contains(g.Reason, "/_titan/metrics") {
		t.Errorf("metrics: %+v", g)
	}
}

// sameJSON reports whether two JSON texts hold the same value (object
// keys in any order).
func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
