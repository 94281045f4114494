package nats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
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
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	prefix := u.Query().Get("prefix")
	nc, err := nats.Connect("nats://" + u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
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
