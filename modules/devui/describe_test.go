package devui

import (
	"context"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

type described struct{}

func (described) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }
func (described) Reset(context.Context) error                          { return nil }

// definition returns the definition of a Netron of this process serving
// calc@1.0.0.
func definition(tb testing.TB) *protocol.Definition {
	tb.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = n.Stop(context.Background()) })
	if err := n.Register("calc", "1.0.0", described{}); err != nil {
		tb.Fatal(err)
	}
	def, err := n.Definition("calc@1.0.0", "")
	if err != nil {
		tb.Fatal(err)
	}
	return def
}

// describe reads what the app's own Describe gives from a definition.
func TestDescribe(t *testing.T) {
	s, err := describe(definition(t))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "calc" || s.Version != "1.0.0" || len(s.Methods) != 2 {
		t.Fatalf("%+v", s)
	}
	if add := s.Methods[0]; add.Name != "add" || add.Void || add.Stream || add.Input == nil || string(add.Output) == "" {
		t.Errorf("add: %+v", add)
	}
	if reset := s.Methods[1]; reset.Name != "reset" || !reset.Void || reset.Output != nil {
		t.Errorf("reset: %+v", reset)
	}
	if _, err := describe(&protocol.Definition{ID: "x", Meta: "not an object"}); err == nil || netron.CodeOf(err) != netron.CodeInternal {
		t.Errorf("metadata that is no object: %v", err)
	}
}

// FuzzDescribe: whatever metadata a remote peer's definition carries,
// describe reads it or refuses it with an error; it never panics. The
// seeds are a Titan definition's metadata, encoded as on the wire.
func FuzzDescribe(f *testing.F) {
	meta, err := protocol.Marshal(definition(f).Meta)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(meta)
	f.Add([]byte{0x80})                                                // {}
	f.Add([]byte{0x81, 0xa7, 'm', 'e', 't', 'h', 'o', 'd', 's', 0x90}) // {"methods": []}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := protocol.DecodeValue(b, protocol.Limits{})
		if err != nil {
			return
		}
		s, err := describe(&protocol.Definition{ID: "id", Meta: v})
		if err == nil && s.Methods == nil {
			t.Fatalf("%x: described with no method list", b)
		}
	})
}
