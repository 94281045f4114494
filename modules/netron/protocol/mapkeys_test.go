package protocol_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// A JavaScript object holds "05" and "5" as two keys. strconv reads both
// as 5, so a map[int]T used to keep only the later entry, silently.
func TestIntegerMapKeysMustBePlainDecimal(t *testing.T) {
	for _, c := range []struct{ key, plain string }{
		{"05", "5"}, {"+5", "5"}, {"-0", "0"}, {"-05", "-5"}, {"00", "0"},
	} {
		b, err := protocol.Marshal(protocol.Object{{Key: c.key, Value: 1}, {Key: c.plain, Value: 2}})
		if err != nil {
			t.Fatal(err)
		}
		var m map[int]int
		err = protocol.Unmarshal(b, &m)
		wantErr(t, err, protocol.ErrTypeMismatch)
		if want := `map key "` + c.key + `" of Go type int must be written "` + c.plain + `"`; !strings.Contains(err.Error(), want) {
			t.Errorf("key %q: %v; want it to contain %s", c.key, err, want)
		}
		if c.key[0] == '-' {
			continue
		}
		var u map[uint8]int
		wantErr(t, protocol.Unmarshal(b, &u), protocol.ErrTypeMismatch)
	}

	in := map[int64]string{0: "zero", -5: "minus five", 10: "ten", -9223372036854775808: "min", 9223372036854775807: "max"}
	b, err := protocol.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out map[int64]string
	if err := protocol.Unmarshal(b, &out); err != nil {
		t.Fatalf("plain keys refused: %v", err)
	}
	if len(out) != len(in) {
		t.Fatalf("got %v, want %v", out, in)
	}
	for k, v := range in {
		if out[k] != v {
			t.Fatalf("key %d: got %q, want %q", k, out[k], v)
		}
	}
}
