package devui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Behind a reverse proxy that passes the UI a Host of its own
// (127.0.0.1:PORT), the page's requests name the proxy's origin in
// Origin: an origin of devui.allowedOrigins is taken for the page's own,
// for calls and for the event feed, and any other still is not.
func TestOriginsAllowed(t *testing.T) {
	t.Parallel()
	_, base := startUI(t, "devui.allowedOrigins=https://devui.example.com,http://10.1.2.3:8080,http://[fd00::1]:8080")
	for _, tt := range []struct {
		origin string
		ok     bool
	}{
		{"https://devui.example.com", true},
		{"https://DevUI.example.com", true},
		{"http://10.1.2.3:8080", true},
		{"http://[fd00::1]:8080", true},
		{"http://[fd00::2]:8080", false},
		{"http://devui.example.com", false},
		{"https://devui.example.com:8443", false},
		{"https://devui.example.com.evil.example", false},
		{"http://10.1.2.3", false},
		{"https://evil.example", false},
	} {
		a := post(t, base+"api/call", `{"service":"calc@1.0.0","method":"add","args":[1,2]}`, "Origin", tt.origin)
		switch {
		case tt.ok && a.status != http.StatusOK:
			t.Errorf("a call from %s: %d %s; want it taken", tt.origin, a.status, a.body)
		case !tt.ok:
			a.wantError(t, http.StatusForbidden, "permission_denied", tt.origin, "devui.allowedOrigins")
		}

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"api/events",
			&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {tt.origin}}})
		cancel()
		if err == nil {
			f := &feed{t: t, c: c}
			f.subscribe("calc.>", "")
			_ = c.CloseNow()
		}
		switch {
		case tt.ok && err != nil:
			t.Errorf("the event feed from %s: %v; want it opened", tt.origin, err)
		case !tt.ok && err == nil:
			t.Errorf("the event feed opened from %s", tt.origin)
		case !tt.ok && (res == nil || res.StatusCode != http.StatusForbidden):
			t.Errorf("the event feed from %s: %v, %v; want 403", tt.origin, res, err)
		}
	}
}
