package netron_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/wirevectors"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

type sessionFrame struct {
	Step string `json:"step"`
	Dir  string `json:"dir"`
	Hex  string `json:"hex"`
	JSON any    `json:"json"`
}

// loadSession reads the frames of a recorded session of vectors.json into
// F (the fields each replay needs).
func loadSession[F any](t *testing.T, name string) []F {
	t.Helper()
	b := wirevectors.JSON
	var doc struct {
		Sessions []struct {
			Name   string `json:"name"`
			Frames []F    `json:"frames"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Sessions {
		if s.Name == name && len(s.Frames) > 0 {
			return s.Frames
		}
	}
	t.Fatalf("session %s not in vectors.json", name)
	return nil
}

// replayCalc mirrors the calculator of the original session.
type replayCalc struct{}

func (replayCalc) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }
func (replayCalc) Greet(_ context.Context, name string) (string, error) {
	return "hi " + name, nil
}
func (replayCalc) Count(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

type chatMessage struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// replayChat mirrors the chat service of the original session: send emits
// chat.message.
type replayChat struct{ n *netron.Netron }

func (c replayChat) Send(ctx context.Context, text string) (bool, error) {
	return true, c.n.Emit(ctx, "chat.message", chatMessage{From: "server", Text: text})
}

// TestReplayTCPSession replays the client frames of the original titan Node
// client's TCP session against a Go server and compares the answers with
// the recorded ones structurally (ids and definition ids aside).
func TestReplayTCPSession(t *testing.T) {
	t.Parallel()
	frames := loadSession[sessionFrame](t, "tcp_session_titan_node_client")

	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", replayCalc{}); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("chat", "1.0.0", replayChat{n}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())

	conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))

	readFrame := func() []byte {
		t.Helper()
		var l [4]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			t.Fatalf("read: %v", err)
		}
		body := make([]byte, binary.BigEndian.Uint32(l[:]))
		if _, err := io.ReadFull(conn, body); err != nil {
			t.Fatalf("read: %v", err)
		}
		return body
	}
	writeFrame := func(body []byte) {
		t.Helper()
		out := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
		if _, err := conn.Write(append(out, body...)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}

	defIDs := map[string]string{}    // recorded definition id -> Go server's
	serverIDs := map[uint32]uint32{} // recorded server request id -> Go server's
	for i, f := range frames {
		raw, err := hex.DecodeString(f.Hex)
		if err != nil {
			t.Fatal(err)
		}
		raw = raw[4:] // the length prefix
		where := fmt.Sprintf("frame %d (%s, %s)", i, f.Step, f.Dir)
		if f.JSON != nil {
			if f.Dir == "server->client" {
				var h struct{ Type, ID string }
				if err := json.Unmarshal(readFrame(), &h); err != nil || h.Type != "id" || h.ID != n.ID() {
					t.Fatalf("%s: id message %+v, %v", where, h, err)
				}
			} else {
				writeFrame(raw)
			}
			continue
		}
		want, err := protocol.DecodePacket(raw, protocol.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if f.Dir == "client->server" {
			if !want.Impulse {
				if id, ok := serverIDs[want.ID]; ok {
					want.ID = id
				}
			}
			want.Data = substitute(want.Data, defIDs)
			out, err := protocol.AppendPacket(nil, &want)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			writeFrame(out)
			continue
		}
		got, err := protocol.DecodePacket(readFrame(), protocol.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if got.Type != want.Type || got.Impulse != want.Impulse || got.Error != want.Error || got.EOS != want.EOS || got.Live != want.Live {
			t.Fatalf("%s: flags %#x, recorded %#x", where, got.Flags(), want.Flags())
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
			t.Fatalf("%s: %v\n got: %#v\nwant: %#v", where, err, got.Data, want.Data)
		}
	}
}

// substitute replaces recorded definition ids with the Go server's.
func substitute(v any, ids map[string]string) any {
	switch x := v.(type) {
	case string:
		if id, ok := ids[x]; ok {
			return id
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, ids)
		}
		return out
	}
	return v
}

// sameShape compares a Go server's value with a recorded one: definitions by
// name, version and method names (recording the id mapping), stream
// references by kind and liveness, numbers by value, the rest exactly.
func sameShape(got, want any, ids map[string]string) error {
	switch w := want.(type) {
	case *protocol.Definition:
		g, ok := got.(*protocol.Definition)
		if !ok {
			return fmt.Errorf("got %T, want a definition", got)
		}
		ids[w.ID] = g.ID
		gm, _ := g.Meta.(protocol.Object)
		wm, _ := w.Meta.(protocol.Object)
		for _, k := range []string{"name", "version"} {
			gv, _ := gm.Get(k)
			wv, _ := wm.Get(k)
			if gv != wv {
				return fmt.Errorf("meta.%s = %v, recorded %v", k, gv, wv)
			}
		}
		gmeth, _ := gm.Get("methods")
		wmeth, _ := wm.Get("methods")
		for _, f := range wmeth.(protocol.Object) {
			if _, ok := gmeth.(protocol.Object).Get(f.Key); !ok {
				return fmt.Errorf("method %s missing from the definition", f.Key)
			}
		}
		if _, ok := gm.Get("properties"); !ok {
			return fmt.Errorf("meta.properties missing")
		}
		return nil
	case *protocol.TitanError:
		g, ok := got.(*protocol.TitanError)
		if !ok || g.Code != w.Code || g.Message != w.Message || g.Name != w.Name {
			return fmt.Errorf("error %#v, recorded %#v", got, want)
		}
		return nil
	case protocol.StreamReference:
		g, ok := got.(protocol.StreamReference)
		if !ok || g.Kind != w.Kind || g.IsLive != w.IsLive {
			return fmt.Errorf("stream reference %#v, recorded %#v", got, want)
		}
		return nil
	case protocol.Object:
		g, ok := got.(protocol.Object)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("got %#v, want %#v", got, want)
		}
		for _, f := range w {
			gv, ok := g.Get(f.Key)
			if !ok {
				return fmt.Errorf("key %q missing", f.Key)
			}
			if err := sameShape(gv, f.Value, ids); err != nil {
				return fmt.Errorf("%s: %w", f.Key, err)
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("got %#v, want %#v", got, want)
		}
		for i := range w {
			if err := sameShape(g[i], w[i], ids); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	}
	if gf, ok := number(got); ok {
		if wf, ok := number(want); ok && (gf == wf || math.Abs(gf-wf) < 1e-9) {
			return nil
		}
	}
	if got != want {
		return fmt.Errorf("got %#v, want %#v", got, want)
	}
	return nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
