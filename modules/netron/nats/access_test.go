package nats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// adminAccess shows an anonymous caller the calculator's add and move
// only, and nothing of the vault; the token "admin" sees everything, and
// any other token is refused.
type adminAccess struct{}

type adminKey struct{}

func (adminAccess) Identify(ctx context.Context, c netron.Credentials) (context.Context, error) {
	switch c.Token {
	case "":
		return ctx, nil
	case "admin":
		return context.WithValue(ctx, adminKey{}, true), nil
	}
	return nil, netron.Errorf(netron.CodeUnauthenticated, "unknown token")
}

func (adminAccess) Visible(ctx context.Context, m *netron.MethodSpec) bool {
	if ctx.Value(adminKey{}) != nil {
		return true
	}
	return m.ServiceName() == "calculator" && (m.Name() == "add" || m.Name() == "move")
}

type Vault struct{}

func (Vault) Open(context.Context) (string, error) { return "gold", nil }

func methodsOf(t *testing.T, def *protocol.Definition) []string {
	t.Helper()
	meta, _ := def.Meta.(protocol.Object)
	m, _ := meta.Get("methods")
	obj, ok := m.(protocol.Object)
	if !ok {
		t.Fatalf("definition %s has no methods object: %#v", def.ID, def.Meta)
	}
	var names []string
	for _, f := range obj {
		names = append(names, f.Key)
	}
	slices.Sort(names)
	return names
}

// A resolve over NATS answers with the definition the caller may see, as
// query_interface does on a stream transport: an anonymous resolve learns
// nothing of the methods it may not call nor of a service it may call
// nothing of, a resolve with a token sees what the token may call, and a
// refused token is answered unauthenticated.
func TestResolveShowsWhatTheCallerMaySee(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	n, err := netron.New(netron.Config{}, nil, netron.WithAccess(adminAccess{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.2.0", newCalc()); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("vault", "1.0.0", Vault{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.Listen(ctx, addr); err != nil {
		t.Fatal(err)
	}
	tcp, err := n.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })

	// What a not_found error lists is what the caller may see, on either
	// door.
	for _, door := range []string{addr, tcp} {
		p := dial(t, door, netron.Config{})
		_, err := p.Call(ctx, "calculator@1.2.0", "nope")
		if netron.CodeOf(err) != netron.CodeNotFound || !strings.Contains(err.Error(), "(it has: add, move)") {
			t.Errorf("%s: an anonymous call of a method that does not exist: %v, want not_found listing add and move only", door, err)
		}
	}
	_, err = dial(t, tcp, netron.Config{}).Call(ctx, "nope@1.0.0", "x")
	if netron.CodeOf(err) != netron.CodeNotFound || !strings.Contains(err.Error(), "calculator@1.2.0") || strings.Contains(err.Error(), "vault") {
		t.Errorf("an anonymous call of a service that does not exist: %v, want not_found listing the calculator and not the vault", err)
	}

	p := dial(t, addr, netron.Config{})
	def, err := p.Definition(ctx, "calculator@^1")
	if err != nil {
		t.Fatal(err)
	}
	if got := methodsOf(t, def); !slices.Equal(got, []string{"add", "move"}) {
		t.Errorf("an anonymous resolve shows the methods %v, want [add move]", got)
	}
	_, err = p.Definition(ctx, "vault@^1")
	if netron.CodeOf(err) != netron.CodeNotFound || strings.Contains(err.Error(), "vault@1.0.0") {
		t.Errorf("an anonymous resolve of the vault: %v, want not_found that does not list it", err)
	}

	// A resolve request as a caller that brings its token sends it.
	nc, prefix := rawNATS(t, addr)
	resolve := func(target, token string) protocol.Packet {
		t.Helper()
		msg := nats.NewMsg(prefix + ".resolve." + strings.Split(target, "@")[0])
		msg.Header.Set(natstransport.HeaderTarget, target)
		if token != "" {
			md, _ := json.Marshal(map[string]string{"authorization": "Bearer " + token})
			msg.Header.Set(natstransport.HeaderMetadata, string(md))
		}
		r, err := nc.RequestMsgWithContext(ctx, msg)
		if err != nil {
			t.Fatalf("resolve %s: %v", target, err)
		}
		pkt, err := protocol.DecodePacket(r.Data, protocol.Limits{})
		if err != nil {
			t.Fatalf("resolve %s: %v", target, err)
		}
		return pkt
	}
	pkt := resolve("calculator@^1", "admin")
	def, ok := pkt.Data.(*protocol.Definition)
	if pkt.Error || !ok {
		t.Fatalf("resolve as admin: %#v", pkt.Data)
	}
	if got := methodsOf(t, def); len(got) <= 2 || !slices.Contains(got, "fail") {
		t.Errorf("a resolve as admin shows the methods %v, want all of them", got)
	}
	if pkt := resolve("vault", "admin"); pkt.Error {
		t.Errorf("resolve of the vault as admin: %v", pkt.Data)
	}
	pkt = resolve("vault", "forged")
	if !pkt.Error || !strings.Contains(fmt.Sprint(pkt.Data), "unknown token") {
		t.Errorf("resolve with a refused token: %#v, want the error unknown token", pkt.Data)
	}
	pkt = resolve("vault", "")
	if !pkt.Error || strings.Contains(fmt.Sprint(pkt.Data), "vault@1.0.0") {
		t.Errorf("anonymous raw resolve of the vault: %#v, want not found without listing it", pkt.Data)
	}
}

// rawNATS connects to the server of addr with nats.go alone, as a caller
// that is not a Go Netron would, and returns the subject prefix of addr;
// the connection closes when the test ends.
func rawNATS(t *testing.T, addr string) (*nats.Conn, string) {
	t.Helper()
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect("nats://" + u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, u.Query().Get("prefix")
}

// serveOnNATS registers impl as name@version on n and listens on addr; n
// stops when the test ends. The context it returns ends then too, or
// after 20 s.
func serveOnNATS(t *testing.T, n *netron.Netron, addr, name, version string, impl any) context.Context {
	t.Helper()
	if err := n.Register(name, version, impl); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	if _, err := n.Listen(ctx, addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	return ctx
}

// The authenticate task over NATS: a gateway answers it with the Netron's
// authenticator, and the caller's connection sends the token with its later
// calls and resolves, so a range target of a service only the token may see
// resolves. A refused token leaves the connection anonymous again;
// credentials without a token are refused with a message that says why,
// on the calling side and by the gateway; bad credentials bytes are an
// error, and the gateway goes on answering.
func TestAuthenticateOverNATS(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	// The vault serves the admin only, as the security module's guard would.
	guard := netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			if !call.IsClient() && call.Service == "vault@1.0.0" && ctx.Value(adminKey{}) == nil {
				return nil, netron.Errorf(netron.CodePermissionDenied, "the vault is the admin's")
			}
			return next(ctx, call)
		}
	})
	n, err := netron.New(netron.Config{}, nil, netron.WithAccess(adminAccess{}), netron.WithInterceptors(guard))
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 8)
	n.SetAuthenticator(func(ctx context.Context, p *netron.Peer, creds any) (any, error) {
		seen <- netron.RemoteAddrFromContext(ctx)
		o, _ := creds.(protocol.Object)
		if tok, _ := o.Get("token"); tok == "admin" {
			return protocol.Object{{Key: "success", Value: true}, {Key: "context", Value: protocol.Object{{Key: "userId", Value: "root"}}}}, nil
		}
		return protocol.Object{{Key: "success", Value: false}, {Key: "error", Value: "unknown token"}}, nil
	})
	ctx := serveOnNATS(t, n, addr, "vault", "1.0.0", Vault{})
	p := dial(t, addr, netron.Config{})
	authenticate := func(creds protocol.Object) (map[string]any, error) {
		var res map[string]any
		err := p.Task(ctx, &res, netron.TaskAuthenticate, creds)
		return res, err
	}
	open := func() (string, error) { return netron.CallUnary[string](ctx, p, "vault@1.0.0", "open") }
	if _, err := p.Definition(ctx, "vault@^1"); netron.CodeOf(err) != netron.CodeNotFound {
		t.Fatalf("an anonymous resolve of the vault: %v, want not_found", err)
	}
	if _, err := open(); netron.CodeOf(err) != netron.CodePermissionDenied {
		t.Fatalf("an anonymous call of the vault: %v, want permission_denied", err)
	}

	res, err := authenticate(protocol.Object{{Key: "token", Value: "admin"}})
	if err != nil || res["success"] != true {
		t.Fatalf("authenticate with the admin token = %v, %v", res, err)
	}
	// seenAddr is the address the authenticator saw in its last call.
	seenAddr := func() string {
		t.Helper()
		select {
		case a := <-seen:
			return a
		case <-ctx.Done():
			t.Fatal("the authenticator was not called")
			return ""
		}
	}
	if got := seenAddr(); !strings.HasPrefix(got, "nats://") || got == "nats://anonymous" {
		t.Errorf("the authenticator saw the address %q, want nats://<the caller's Netron id>", got)
	}
	if _, err := p.Definition(ctx, "vault@^1"); err != nil {
		t.Errorf("a resolve of the vault after authenticating: %v", err)
	}
	if v, err := open(); err != nil || v != "gold" {
		t.Errorf("a call of the vault after authenticating = %q, %v", v, err)
	}

	res, err = authenticate(protocol.Object{{Key: "token", Value: "forged"}})
	if err != nil || res["success"] != false || res["error"] != "unknown token" {
		t.Fatalf("authenticate with a forged token = %v, %v, want success false and the authenticator's error", res, err)
	}
	seenAddr()
	if _, err := open(); netron.CodeOf(err) != netron.CodePermissionDenied {
		t.Errorf("a call of the vault after a refused authentication: %v, want permission_denied: the connection must be anonymous again", err)
	}

	_, err = authenticate(protocol.Object{{Key: "username", Value: "ada"}, {Key: "password", Value: "secret"}})
	if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "takes a token") {
		t.Errorf("authenticate with a password over nats:// = %v, want invalid_argument saying it takes a token", err)
	}

	// What a caller that is not a Go client may send: the gateway refuses
	// a password and bytes that are not MessagePack, and goes on serving.
	nc, prefix := rawNATS(t, addr)
	raw := func(data []byte) protocol.Packet {
		t.Helper()
		r, err := nc.RequestWithContext(ctx, prefix+".authenticate", data)
		if err != nil {
			t.Fatalf("authenticate request: %v", err)
		}
		pkt, err := protocol.DecodePacket(r.Data, protocol.Limits{})
		if err != nil {
			t.Fatalf("authenticate answer: %v", err)
		}
		return pkt
	}
	pw, _ := protocol.AppendValue(nil, protocol.Object{{Key: "password", Value: "secret"}})
	if pkt := raw(pw); !pkt.Error || !strings.Contains(fmt.Sprint(pkt.Data), "takes a token") {
		t.Errorf("a raw authenticate with a password: %#v, want an error saying it takes a token", pkt.Data)
	}
	if pkt := raw([]byte{0xc1}); !pkt.Error || !strings.Contains(fmt.Sprint(pkt.Data), "not a MessagePack value") {
		t.Errorf("a raw authenticate of the byte 0xc1: %#v, want an error naming the credentials", pkt.Data)
	}
	tok, _ := protocol.AppendValue(nil, protocol.Object{{Key: "token", Value: "admin"}})
	if pkt := raw(tok); pkt.Error {
		t.Errorf("a raw authenticate with the admin token after bad ones: %#v", pkt.Data)
	}
}

// A flood of authenticate requests holds no more of the gateway than one
// running and a bounded queue: its goroutines stay flat, calls are served
// throughout, and a caller's authentication soon after the flood succeeds.
func TestAuthenticateFlood(t *testing.T) {
	addr := testURL(t)
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.SetAuthenticator(func(ctx context.Context, _ *netron.Peer, creds any) (any, error) {
		time.Sleep(2 * time.Millisecond) // a slow check: requests queue up
		return protocol.Object{{Key: "success", Value: true}}, nil
	})
	ctx := serveOnNATS(t, n, addr, "calculator", "1.2.0", newCalc())
	p := dial(t, addr, netron.Config{})
	if _, err := p.Call(ctx, "calculator@1.2.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()

	nc, prefix := rawNATS(t, addr)
	tok, _ := protocol.AppendValue(nil, protocol.Object{{Key: "token", Value: "t"}})
	const flood = 5000
	for range flood {
		if err := nc.PublishRequest(prefix+".authenticate", nc.NewRespInbox(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	most := 0
	for range 20 {
		start := time.Now()
		if _, err := p.Call(ctx, "calculator@1.2.0", "add", 1, 2); err != nil {
			t.Fatalf("a call during the flood: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("a call during the flood took %v", d)
		}
		most = max(most, runtime.NumGoroutine())
		time.Sleep(10 * time.Millisecond)
	}
	if most > before+20 {
		t.Errorf("goroutines went from %d to %d during a flood of %d authenticate requests", before, most, flood)
	}
	var res map[string]any
	// The queue is bounded (256 requests, about half a second of work
	// here); the 5,000 unbounded would take ten seconds to work off.
	deadline := time.Now().Add(5 * time.Second)
	for {
		tctx, tcancel := context.WithTimeout(ctx, 2*time.Second)
		err := p.Task(tctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: "t"}})
		tcancel()
		if err == nil && res["success"] == true {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("authenticate after the flood: %v, %v", res, err)
		}
	}
}
