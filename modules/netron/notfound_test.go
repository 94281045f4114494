package netron_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// rawError sends a request packet of typ with data on a connection that
// speaks the plain (TypeScript) protocol and returns the message of the
// error it answers.
func rawError(t *testing.T, c *rawConn, id uint32, typ protocol.Type, data []any) string {
	t.Helper()
	frame, err := protocol.AppendPacket(nil, &protocol.Packet{ID: id, Type: typ, Impulse: true, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	c.write(frame)
	pkt, err := protocol.DecodePacket(c.read(), protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !pkt.Error || pkt.ID != id {
		t.Fatalf("answer %+v: want the error of request %d", pkt, id)
	}
	switch e := pkt.Data.(type) {
	case *protocol.TitanError:
		return e.Message
	case protocol.TitanError:
		return e.Message
	}
	t.Fatalf("error payload %#v is not a TitanError", pkt.Data)
	return ""
}

// A Go peer gets one not-found message whatever the path: a call, a call
// through a range, a lookup (query_interface), and a gateway's Invoke.
// It lists what exists (issue 12, item 14).
func TestNotFoundIsOneMessageForGoPeers(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	p := dial(t, s.addr)
	ctx := context.Background()
	const methods = "add, count, div, fail, move, negative, panic, points, reset, slow"
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"call, unknown method", func() error { _, err := p.Call(ctx, "calculator@1.0.0", "nope"); return err },
			`service calculator@1.0.0 has no method "nope" (it has: ` + methods + `)`},
		{"call, unknown service", func() error { _, err := p.Call(ctx, "users@1.0.0", "find"); return err },
			`no service matches "users@1.0.0" (the server has: calculator@1.0.0)`},
		{"call through a range", func() error { _, err := p.Call(ctx, "users@^1", "find"); return err },
			`no service matches "users@^1" (the server has: calculator@1.0.0)`},
		{"lookup", func() error { _, err := p.Definition(ctx, "users"); return err },
			`no service matches "users" (the server has: calculator@1.0.0)`},
		{"gateway, unknown method", func() error {
			_, err := s.n.Invoke(ctx, &netron.Invocation{Service: "calculator", Method: "nope"})
			return err
		}, `service calculator@1.0.0 has no method "nope" (it has: ` + methods + `)`},
		{"gateway, unknown service", func() error {
			_, err := s.n.Invoke(ctx, &netron.Invocation{Service: "users@1.0.0", Method: "find"})
			return err
		}, `no service matches "users@1.0.0" (the server has: calculator@1.0.0)`},
		{"gateway definition", func() error { _, err := s.n.Definition("users@^2", "tcp"); return err },
			`no service matches "users@^2" (the server has: calculator@1.0.0)`},
	} {
		err := tc.err()
		if netron.CodeOf(err) != netron.CodeNotFound || err.Error() != "not_found: "+tc.want {
			t.Errorf("%s:\n got %v\nwant not_found: %s", tc.name, err, tc.want)
		}
	}
}

// A peer speaking the plain protocol (a TypeScript client) keeps the
// original's wording, which its clients and recorded sessions pin
// (NETRON-WIRE.md §5.6); an unknown name is repeated cut to 64 bytes.
func TestNotFoundKeepsTheOriginalWordingForTypeScriptPeers(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	c := dialRaw(t, s.addr)
	c.handshake("ts-client")
	long := strings.Repeat("n", 1<<20) // a 1 MB service name
	for i, tc := range []struct {
		typ  protocol.Type
		data []any
		want string
	}{
		{protocol.TypeCall, []any{"calculator@1.0.0", "nope"}, "Method 'calculator@1.0.0.nope' not found"},
		{protocol.TypeCall, []any{"users@1.0.0", "find"}, "Service with id users@1.0.0 not found"},
		{protocol.TypeCall, []any{"deadbeef-0000-7000-8000-000000000000", "find"}, "Definition with id deadbeef-0000-7000-8000-000000000000 not found"},
		{protocol.TypeTask, []any{"query_interface", "users"}, "Service 'users' not found"},
		{protocol.TypeTask, []any{"no_such_task"}, "Task with id no_such_task not found"},
		{protocol.TypeCall, []any{long, "find"}, "Service with id " + long[:64] + "… not found"},
		{protocol.TypeTask, []any{"query_interface", long}, "Service '" + long[:64] + "…' not found"},
		{protocol.TypeTask, []any{long}, "Task with id " + long[:64] + "… not found"},
	} {
		if got := rawError(t, c, uint32(i+1), tc.typ, tc.data); got != tc.want {
			name := fmt.Sprint(tc.data)
			if len(name) > 80 {
				name = name[:80]
			}
			t.Errorf("%s %s:\n got %.200q\nwant %.200q", tc.typ, name, got, tc.want)
		}
	}
}

// A 1 MB unknown service name comes back cut to 64 bytes, not in full
// (issue 12, item 4), for Go peers as for others (see above).
func TestNotFoundEchoIsBounded(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	p := dial(t, s.addr)
	long := strings.Repeat("n", 1<<20)
	ctx := context.Background()
	want := `not_found: no service matches "` + long[:64] + `"… (the server has: calculator@1.0.0)`
	_, err := p.Call(ctx, long, "add") // a bare name: looked up with query_interface
	if err == nil || err.Error() != want {
		t.Fatalf("call: got %.300q\nwant %q", err, want)
	}
	var ne *netron.Error
	if !errors.As(err, &ne) || len(fmt.Sprint(ne.Details())) > 500 {
		t.Fatalf("details too large or missing: %.300v", ne.Details())
	}
	_, err = s.n.Invoke(ctx, &netron.Invocation{Service: long + "@1.0.0", Method: "add"})
	if want := `not_found: no service matches "` + long[:64] + `"… (the server has: calculator@1.0.0)`; err == nil || err.Error() != want {
		t.Fatalf("invoke: got %.300q\nwant %q", err, want)
	}
	// A name the client refuses is repeated cut as well.
	_, err = p.Call(ctx, strings.Repeat("é", 1<<19), "add")
	if want := `invalid_argument: netron: target "` + strings.Repeat("é", 32) + `"…: netron: service name "` + strings.Repeat("é", 32) + `"…: use only letters, digits, '_' and '-'`; err == nil || err.Error() != want {
		t.Fatalf("refused name: got %.300q\nwant %q", err, want)
	}
}

// Long lists are cut: at most 20 names, then how many more.
func TestNotFoundListsAreBounded(t *testing.T) {
	t.Parallel()
	names := make([]string, 25)
	for i := range names {
		names[i] = fmt.Sprintf("m%02d", i)
	}
	err := netron.MethodNotFound("big@1.0.0", strings.Repeat("x", 100), names)
	want := `not_found: service big@1.0.0 has no method "` + strings.Repeat("x", 64) + `"… (it has: ` +
		strings.Join(names[:20], ", ") + `, and 5 more)`
	if err.Error() != want {
		t.Fatalf("got  %s\nwant %s", err, want)
	}
	err = netron.ServiceNotFound("users", nil)
	if want := `not_found: no service matches "users" (the server has no services)`; err.Error() != want {
		t.Fatalf("got  %s\nwant %s", err, want)
	}
}

// TestInvalidMethodNameIsNamed: a call whose method name breaks the wire
// rule is refused with a message that names the method and the service
// for a Go peer and a gateway's Invoke; a TypeScript peer keeps the
// original's "Invalid method name".
func TestInvalidMethodNameIsNamed(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	p := dial(t, s.addr)
	ctx := context.Background()
	const want = `invalid method name "get-total" for calculator`
	_, err := p.Call(ctx, "calculator", "get-total", 1)
	if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), want) {
		t.Errorf("Go peer: %v, want invalid_argument with %q", err, want)
	}
	_, err = s.n.Invoke(ctx, &netron.Invocation{Service: "calculator", Method: "get-total", Transport: "http"})
	if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), want) {
		t.Errorf("Invoke: %v, want invalid_argument with %q", err, want)
	}
	c := dialRaw(t, s.addr)
	c.handshake("ts-peer")
	if msg := rawError(t, c, 1, protocol.TypeCall, []any{"calculator@1.0.0", "get-total", 1}); msg != "Invalid method name" {
		t.Errorf("TypeScript peer: %q, want the original's %q", msg, "Invalid method name")
	}
}
