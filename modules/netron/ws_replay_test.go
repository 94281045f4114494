package netron_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

type wsFrame struct {
	Client string `json:"client"`
	Step   string `json:"step"`
	Dir    string `json:"dir"`
	Opcode string `json:"ws_opcode"`
	Hex    string `json:"hex"`
	JSON   any    `json:"json"`
}

// TestReplayWebSocketSession replays the netron-browser client frames of
// ws_session_netron_browser_client against a Go server over WebSocket,
// client by client, with the opcodes recorded, and compares the answers
// structurally. Where the original misbehaved (documented in
// NETRON-WIRE.md §13) the Go server is held to the correct behaviour
// instead:
//   - GET and SET (frames of "raw GET/SET packet"): Titan exposes no
//     properties, so they are answered with an error (§7, out of scope);
//   - client B sends its CALL before the handshake: the original never
//     answered it (§4.3); the Go server answers both calls;
//   - client C's object-shaped CALL crashed the original (§5.7); the Go
//     server answers with a 400 error and keeps serving.
func TestReplayWebSocketSession(t *testing.T) {
	t.Parallel()
	frames := loadSession[wsFrame](t, "ws_session_netron_browser_client")

	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calculator", "1.0.0", replayCalc{}); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("chat", "1.0.0", replayChat{n}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "ws://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	byClient := map[string][]wsFrame{}
	var order []string
	for _, f := range frames {
		if _, ok := byClient[f.Client]; !ok {
			order = append(order, f.Client)
		}
		byClient[f.Client] = append(byClient[f.Client], f)
	}
	for _, client := range order {
		t.Run("client "+client, func(t *testing.T) {
			c, _, err := websocket.Dial(ctx, addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			switch client {
			case "B":
				replayEarlyCall(t, ctx, c)
			case "C":
				replayObjectPayload(t, ctx, c, byClient[client])
			default:
				replayFrames(t, ctx, c, n, byClient[client])
			}
		})
	}
}

func readPacket(t *testing.T, ctx context.Context, c *websocket.Conn) protocol.Packet {
	t.Helper()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if typ == websocket.MessageBinary && len(msg) > 0 && msg[0] == '{' {
			continue // the server's id message
		}
		p, err := protocol.DecodePacket(msg, protocol.Limits{})
		if err != nil {
			t.Fatalf("undecodable packet %x: %v", msg, err)
		}
		return p
	}
}

func replayFrames(t *testing.T, ctx context.Context, c *websocket.Conn, n *netron.Netron, frames []wsFrame) {
	defIDs := map[string]string{}
	serverIDs := map[uint32]uint32{}
	for i, f := range frames {
		raw, err := hex.DecodeString(f.Hex)
		if err != nil {
			t.Fatal(err)
		}
		where := fmt.Sprintf("frame %d (%s, %s)", i, f.Step, f.Dir)
		if f.JSON != nil {
			if f.Dir == "server->client" {
				typ, msg, err := c.Read(ctx)
				var h struct{ Type, ID string }
				if err != nil || typ != websocket.MessageBinary || json.Unmarshal(msg, &h) != nil || h.Type != "id" || h.ID != n.ID() || len(msg) >= 512 {
					t.Fatalf("%s: id message %q (%v), %v", where, msg, typ, err)
				}
			} else if err := c.Write(ctx, websocket.MessageText, raw); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := protocol.DecodePacket(raw, protocol.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		getSet := strings.Contains(f.Step, "raw GET") || strings.Contains(f.Step, "raw SET")
		if f.Dir == "client->server" {
			if !want.Impulse {
				if id, ok := serverIDs[want.ID]; ok {
					want.ID = id
				}
			}
			want.Data = substitute(want.Data, defIDs)
			out, err := protocol.AppendPacket(nil, &want)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Write(ctx, websocket.MessageBinary, out); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got := readPacket(t, ctx, c)
		if getSet {
			if !got.Error || got.ID != want.ID || got.Type != want.Type {
				t.Fatalf("%s: GET/SET answered %#x %v, want an error response", where, got.Flags(), got.Data)
			}
			continue
		}
		if got.Type != want.Type || got.Impulse != want.Impulse || got.Error != want.Error || got.EOS != want.EOS || got.Live != want.Live {
			t.Fatalf("%s: flags %#x, recorded %#x (%v)", where, got.Flags(), want.Flags(), got.Data)
		}
		if want.Impulse {
			serverIDs[want.ID] = got.ID
		} else if got.ID != want.ID {
			t.Fatalf("%s: response id %d, recorded %d", where, got.ID, want.ID)
		}
		if got.Type == protocol.TypeStream && got.StreamIndex != want.StreamIndex {
			t.Fatalf("%s: stream index %d, recorded %d", where, got.StreamIndex, want.StreamIndex)
		}
		if err := sameShape(got.Data, want.Data, defIDs); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
	}
}

// replayEarlyCall: a CALL before the handshake, then the handshake, then
// another CALL; the Go server answers both.
func replayEarlyCall(t *testing.T, ctx context.Context, c *websocket.Conn) {
	early, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true, Data: []any{"calculator@1.0.0", "add", 40, 2}})
	if err := c.Write(ctx, websocket.MessageBinary, early); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"client-id","id":"5f0c6a2e-8f7b-4c1d-9e2a-3b4c5d6e7f81"}`)); err != nil {
		t.Fatal(err)
	}
	late, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 2, Type: protocol.TypeCall, Impulse: true, Data: []any{"calculator@1.0.0", "add", 1, 1}})
	if err := c.Write(ctx, websocket.MessageBinary, late); err != nil {
		t.Fatal(err)
	}
	answers := map[uint32]any{}
	for len(answers) < 2 {
		p := readPacket(t, ctx, c)
		answers[p.ID] = p.Data
	}
	if fmt.Sprint(answers[1]) != "42" || fmt.Sprint(answers[2]) != "2" {
		t.Fatalf("answers %v, want 42 and 2", answers)
	}
}

// replayObjectPayload: the object-shaped CALL that crashed the original
// gets a 400 error, and the connection keeps working.
func replayObjectPayload(t *testing.T, ctx context.Context, c *websocket.Conn, frames []wsFrame) {
	for _, f := range frames {
		raw, _ := hex.DecodeString(f.Hex)
		if f.Dir != "client->server" {
			continue
		}
		typ := websocket.MessageBinary
		if f.Opcode == "text" {
			typ = websocket.MessageText
		}
		if err := c.Write(ctx, typ, raw); err != nil {
			t.Fatal(err)
		}
	}
	p := readPacket(t, ctx, c)
	te, ok := p.Data.(*protocol.TitanError)
	if !p.Error || !ok || te.Code != 400 {
		t.Fatalf("object-shaped CALL answered %#x %#v, want a 400 error", p.Flags(), p.Data)
	}
	ok2, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 99, Type: protocol.TypeCall, Impulse: true, Data: []any{"calculator@1.0.0", "add", 2, 2}})
	if err := c.Write(ctx, websocket.MessageBinary, ok2); err != nil {
		t.Fatal(err)
	}
	if p := readPacket(t, ctx, c); p.ID != 99 || fmt.Sprint(p.Data) != "4" {
		t.Fatalf("after the bad payload: %#v", p)
	}
}
