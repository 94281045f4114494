package protocol_test

import (
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

func TestDurationAsString(t *testing.T) {
	type S struct {
		D time.Duration `json:"d"`
	}
	b, err := protocol.Marshal(S{D: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := protocol.DecodeValue(b, protocol.Limits{})
	if d, _ := v.(protocol.Object).Get("d"); d != "1.5s" {
		t.Fatalf("encoded as %#v, want \"1.5s\"", d)
	}
	var back S
	if err := protocol.Unmarshal(b, &back); err != nil || back.D != 1500*time.Millisecond {
		t.Fatalf("decoded %v, %v", back.D, err)
	}
	for in, want := range map[any]time.Duration{"250ms": 250 * time.Millisecond, int64(42): 42} {
		raw, _ := protocol.Marshal(in)
		var d time.Duration
		if err := protocol.Unmarshal(raw, &d); err != nil || d != want {
			t.Errorf("%v: got %v, %v", in, d, err)
		}
	}
	raw, _ := protocol.Marshal("soon")
	var d time.Duration
	if err := protocol.Unmarshal(raw, &d); err == nil {
		t.Error("invalid duration accepted")
	}
}
