package netron_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security"
	"github.com/titanframework/titan/modules/security/policy"
)

// TestReplaySessionWithSecurity replays ws_session_with_auth_configured —
// the original's netron-browser client authenticating with a password and
// a token, querying a protected service, refused with ?token=bad-token
// (close 4001 "Invalid token") and calling as the peer of ?token=good-token
// — against a Go server whose security module authenticates the same
// users: the answers are those recorded.
func TestReplaySessionWithSecurity(t *testing.T) {
	t.Parallel()
	frames := loadSession[struct {
		wsFrame
		Event  string `json:"event"`
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	}](t, "ws_session_with_auth_configured")
	alice := func() *security.Identity {
		return &security.Identity{Subject: "u-alice", Roles: []string{"admin"}, Permissions: []string{"calc:use"}}
	}
	g, err := security.New(context.Background(), security.Config{}, security.Options{
		Authenticator: security.AuthenticatorFunc(func(_ context.Context, c security.Credentials) (*security.Identity, error) {
			switch {
			case c.Token == "good-token":
				return alice(), nil
			case c.Token != "":
				return nil, errors.New("Invalid token")
			case c.Username == "alice" && c.Password == "secret":
				return alice(), nil
			}
			return nil, errors.New("Invalid credentials")
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	n, err := netron.New(netron.Config{}, nil, append(g.Options(), netron.WithInterceptors(g))...)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calculator", "1.0.0", replayCalc{},
		netron.WithPolicy(`Auth(Permissions("calc:use"))`, policy.AuthKey, &policy.Auth{Permissions: []string{"calc:use"}}, nil)); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "ws://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var seg []wsFrame
	url := addr
	flush := func() {
		if len(seg) == 0 {
			return
		}
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		replayFrames(t, ctx, c, n, seg)
		_ = c.Close(websocket.StatusNormalClosure, "Manual disconnect")
		seg, url = nil, addr
	}
	for _, f := range frames {
		switch {
		case f.Event == "close" && f.Code == 4001:
			flush()
			c, _, err := websocket.Dial(ctx, addr+"?token=bad-token", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Read(ctx)
			_ = c.CloseNow()
			var ce websocket.CloseError
			if !errors.As(err, &ce) || int(ce.Code) != f.Code || ce.Reason != f.Reason {
				t.Fatalf("%s: %v, recorded close %d %q", f.Step, err, f.Code, f.Reason)
			}
		case f.Event != "":
			flush()
		default:
			if len(seg) == 0 && strings.Contains(f.Step, "?token=good-token") {
				url = addr + "?token=good-token"
			}
			seg = append(seg, f.wsFrame)
		}
	}
	flush()

	// A connection that does not authenticate is not shown the protected
	// service (query_interface answers not found, as the original's
	// authorization manager does) and may not call it.
	p, err := netron.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Definition(ctx, "calculator@1.0.0"); netron.CodeOf(err) != netron.CodeNotFound {
		t.Fatalf("anonymous query_interface: %v, want not_found", err)
	}
	if _, err := p.Call(ctx, "calculator", "add", 2, 2); netron.CodeOf(err) != netron.CodeUnauthenticated && netron.CodeOf(err) != netron.CodeNotFound {
		t.Fatalf("anonymous call: %v, want refused", err)
	}
	if _, err := p.Call(ctx, "calculator@1.0.0", "add", 2, 2); netron.CodeOf(err) != netron.CodeUnauthenticated {
		t.Fatalf("anonymous call: %v, want unauthenticated", err)
	}
}
