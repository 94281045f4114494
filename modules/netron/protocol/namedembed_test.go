package protocol_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

type stamp struct {
	By string `json:"by"`
}

type stamped struct {
	stamp `json:"stamp,omitzero"`
	ID    int `json:"id"`
}

type mark struct {
	On bool `json:"on"`
}

func (m mark) IsZero() bool { return !m.On }

type marked struct {
	mark `json:"mark,omitzero"`
}

// TestNamedUnexportedEmbedded: a struct of an unexported type embedded
// by value with a json name is written and read as a field of that name,
// as encoding/json does, omitzero and null included. Before, the encoder
// left it out and the decoder ignored it.
func TestNamedUnexportedEmbedded(t *testing.T) {
	for _, in := range []stamped{{stamp: stamp{By: "ann"}, ID: 1}, {ID: 2}} {
		b, err := protocol.Marshal(in)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		got, err := protocol.AppendValueJSON(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(in)
		if string(got) != string(want) {
			t.Errorf("%+v: JSON %s, encoding/json writes %s", in, got, want)
		}
		var out stamped
		if err := protocol.Unmarshal(b, &out); err != nil || out != in {
			t.Errorf("%+v: read back %+v, %v", in, out, err)
		}
	}
	b, err := protocol.Marshal(map[string]any{"stamp": nil, "id": 3})
	if err != nil {
		t.Fatal(err)
	}
	out := stamped{stamp: stamp{By: "old"}}
	if err := protocol.Unmarshal(b, &out); err != nil || out != (stamped{ID: 3}) {
		t.Errorf("stamp null: %+v, %v, want {ID:3}", out, err)
	}
	// Its IsZero method cannot be called on an unexported field (encoding/json
	// panics): omitzero falls back to the zero value.
	for in, want := range map[marked]string{{}: `{}`, {mark{On: true}}: `{"mark":{"on":true}}`} {
		got, err := protocol.AppendValueJSON(nil, in)
		if err != nil || string(got) != want {
			t.Errorf("%+v: JSON %s, %v, want %s", in, got, err, want)
		}
	}
}

type errA struct{ A int }

func (errA) Error() string { return "a" }

type errB struct{ B int }

func (errB) Error() string { return "b" }

type twoErrs struct {
	errA `json:"a"`
	errB `json:"b"`
}

// TestNamedUnexportedEmbeddedError: a Go error of an unexported type
// embedded with a json name, whose Error method cannot be called, is an
// error of the encoder, not a panic.
func TestNamedUnexportedEmbeddedError(t *testing.T) {
	if _, err := protocol.Marshal(twoErrs{}); !errors.Is(err, protocol.ErrUnsupported) {
		t.Errorf("Marshal: %v, want ErrUnsupported", err)
	}
	if _, err := protocol.AppendValueJSON(nil, twoErrs{}); !errors.Is(err, protocol.ErrUnsupported) {
		t.Errorf("AppendValueJSON: %v, want ErrUnsupported", err)
	}
}

type stampedPtr struct {
	*stamp `json:"stamp"`
	ID     int `json:"id"`
}

// TestNamedUnexportedEmbeddedPointer: one embedded by pointer is written
// as encoding/json writes it; the decoder, which can neither allocate it
// nor set it to nil (encoding/json panics), skips its values.
func TestNamedUnexportedEmbeddedPointer(t *testing.T) {
	for _, in := range []stampedPtr{{stamp: &stamp{By: "ann"}, ID: 1}, {ID: 2}} {
		got, err := protocol.AppendValueJSON(nil, in)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(in)
		if string(got) != string(want) {
			t.Errorf("%+v: JSON %s, encoding/json writes %s", in, got, want)
		}
		b, err := protocol.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, out := range []stampedPtr{{}, {stamp: &stamp{By: "old"}}} {
			keep := out.stamp
			if err := protocol.Unmarshal(b, &out); err != nil || out.ID != in.ID || out.stamp != keep {
				t.Errorf("%+v: read back %+v, %v", in, out, err)
			}
		}
	}
}
