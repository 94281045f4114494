package tracing_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// plainConn speaks the plain protocol over TCP, as the TypeScript Netron
// does: length-prefixed frames, a handshake without the Go extension,
// no call headers.
type plainConn struct {
	t *testing.T
	c net.Conn
}

func (p plainConn) read() []byte {
	p.t.Helper()
	b, err := readFrame(p.c)
	if err != nil {
		p.t.Fatalf("read: %v", err)
	}
	return b
}

func (p plainConn) write(b []byte) {
	p.t.Helper()
	if err := writeFrame(p.c, b); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

// readFrame reads a length-prefixed frame.
func readFrame(r io.Reader) ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(l[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

// writeFrame writes a length-prefixed frame.
func writeFrame(w io.Writer, b []byte) error {
	_, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...))
	return err
}

func (p plainConn) writePacket(pkt *protocol.Packet) {
	p.t.Helper()
	b, err := protocol.AppendPacket(nil, pkt)
	if err != nil {
		p.t.Fatal(err)
	}
	p.write(b)
}

func (p plainConn) readPacket() protocol.Packet {
	p.t.Helper()
	pkt, err := protocol.DecodePacket(p.read(), protocol.Limits{})
	if err != nil {
		p.t.Fatal(err)
	}
	return pkt
}

// TestPlainClientIsServed: a client without the Go extension (a
// TypeScript Netron) gets its answers from a traced server; each of its
// calls is the root of a trace of its own, and the server's onward calls
// belong to it.
func TestPlainClientIsServed(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	a, b := tracedNetron(t, exp, 1), tracedNetron(t, exp, 1)
	front := &Relay{name: "front", target: "middle@1.0.0"}
	if err := a.Register("front", "1.0.0", front); err != nil {
		t.Fatal(err)
	}
	if err := b.Register("middle", "1.0.0", &Relay{name: "middle"}); err != nil {
		t.Fatal(err)
	}
	front.next = dial(t, a, listen(t, b, "tcp://127.0.0.1:0"))
	addr := listen(t, a, "tcp://127.0.0.1:0")

	c, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	p := plainConn{t, c}
	var hello struct{ Type, ID string }
	if err := json.Unmarshal(p.read(), &hello); err != nil || hello.Type != "id" {
		t.Fatalf("handshake: %q, %v", hello, err)
	}
	p.write([]byte(`{"type":"client-id","id":"ts-client"}`))
	for i := range 2 {
		id := uint32(10 + i)
		p.writePacket(&protocol.Packet{ID: id, Type: protocol.TypeCall, Impulse: true, Data: []any{"front@1.0.0", "relay", "ts"}})
		got := p.readPacket()
		if got.ID != id || got.Error || got.Data != "front:middle:ts" {
			t.Fatalf("call %d: %+v", i, got)
		}
	}

	spans := waitSpans(t, exp, 2*3)
	traces := map[trace.TraceID]tracetest.SpanStubs{}
	for _, s := range spans {
		traces[s.SpanContext.TraceID()] = append(traces[s.SpanContext.TraceID()], s)
	}
	if len(traces) != 2 {
		t.Fatalf("%d traces, want one per call", len(traces))
	}
	for _, tr := range traces {
		chain, err := chainOf(tr)
		if err != nil {
			t.Fatal(err)
		}
		if chain[0].SpanKind != trace.SpanKindServer || chain[0].Name != "front@1.0.0/relay" {
			t.Errorf("root %s %s, want the server span of front", chain[0].SpanKind, chain[0].Name)
		}
	}
}

// TestPlainServerIsCalled: a traced client calls a server without the Go
// extension (a TypeScript Netron) as before: no call header, and its
// client span ends with the answer.
func TestPlainServerIsCalled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan protocol.Packet, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if writeFrame(c, []byte(`{"type":"id","id":"ts-server"}`)) != nil {
			return
		}
		b, err := readFrame(c)
		var h struct{ Type string }
		if err != nil || json.Unmarshal(b, &h) != nil || h.Type != "client-id" {
			return
		}
		for {
			b, err := readFrame(c)
			if err != nil {
				return
			}
			pkt, err := protocol.DecodePacket(b, protocol.Limits{})
			if err != nil || pkt.Type != protocol.TypeCall {
				continue
			}
			served <- pkt
			out, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: pkt.ID, Type: protocol.TypeCall, Data: "ts answer"})
			if writeFrame(c, out) != nil {
				return
			}
		}
	}()

	exp := tracetest.NewInMemoryExporter()
	n := tracedNetron(t, exp, 1)
	peer := dial(t, n, "tcp://"+ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := netron.CallUnary[string](ctx, peer, "front@1.0.0", "relay", "x")
	if err != nil || got != "ts answer" {
		t.Fatalf("call: %q, %v", got, err)
	}
	pkt := <-served
	if args, _ := pkt.Data.([]any); pkt.Live || len(args) != 3 || args[2] != "x" {
		t.Errorf("the plain server got %+v: want [defId, method, x] without a header", pkt)
	}
	spans := waitSpans(t, exp, 1)
	if spans[0].SpanKind != trace.SpanKindClient || attr(spans[0], "rpc.response.status_code") != "ok" {
		t.Errorf("span %s %s %v", spans[0].SpanKind, spans[0].Name, spans[0].Attributes)
	}
}
