package protocol_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// TestStringsFromWindow decodes arrays of strings of every length around the
// decoder's string window (short ones shared, long ones alone, some with
// invalid UTF-8, some empty) into []string, a struct, map keys and the
// generic model, and checks every string against the one the wire carried.
func TestStringsFromWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var want []string
		for range rng.IntN(80) {
			var n int
			switch rng.IntN(4) {
			case 0:
				n = rng.IntN(32)
			case 1:
				n = rng.IntN(300)
			case 2:
				n = 250 + rng.IntN(20) // around the longest string a window takes
			default:
				n = rng.IntN(1500)
			}
			b := make([]byte, n)
			for i := range b {
				b[i] = byte('a' + rng.IntN(26))
			}
			if n > 0 && rng.IntN(8) == 0 {
				b[rng.IntN(n)] = 0xff // invalid UTF-8: replaced, as the TypeScript decoders do
			}
			want = append(want, string(b))
		}
		raw, err := protocol.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := protocol.Unmarshal(raw, &got); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var generic any
		if err := protocol.Unmarshal(raw, &generic); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		keys := map[string]int{}
		for i, s := range want {
			keys[s] = i
		}
		rawKeys, err := protocol.Marshal(keys)
		if err != nil {
			t.Fatal(err)
		}
		var gotKeys map[string]int
		if err := protocol.Unmarshal(rawKeys, &gotKeys); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		clear(raw) // the decoded strings are copies: the input's buffer is reused
		clear(rawKeys)
		if len(got) != len(want) || len(generic.([]any)) != len(want) {
			t.Fatalf("round %d: %d and %d strings decoded, want %d", round, len(got), len(generic.([]any)), len(want))
		}
		for i, s := range want {
			w := strings.ToValidUTF8(s, "\uFFFD")
			if got[i] != w {
				t.Fatalf("round %d, string %d (%d bytes): got %q, want %q", round, i, len(s), got[i], w)
			}
			if g := generic.([]any)[i]; g != w {
				t.Fatalf("round %d, string %d in the generic model: got %q, want %q", round, i, g, w)
			}
			if !utf8.ValidString(s) {
				continue // two keys may become one after replacement
			}
			if _, ok := gotKeys[s]; !ok {
				t.Fatalf("round %d: map key %q (%d bytes) missing", round, s, len(s))
			}
		}
	}
}

// TestStructStringsAllocateOnce: the nine short strings of a realistic
// message share one allocation (the tags slice is the other).
func TestStructStringsAllocateOnce(t *testing.T) {
	u := benchUser{ID: 1000, Name: "Ada Lovelace", Email: "ada@example.com", Age: 36, Score: 97.25, Active: true,
		Role: "member", Tags: []string{"mathematics", "engines", "poetry"}, Address: benchAddress{"12 St James's Square", "London", "10001"}}
	raw, err := protocol.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var out benchUser
	allocs := testing.AllocsPerRun(100, func() {
		out = benchUser{}
		if err := protocol.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
	})
	if out.Name != u.Name || out.Email != u.Email || out.Role != u.Role || out.Address != u.Address ||
		strings.Join(out.Tags, ",") != strings.Join(u.Tags, ",") {
		t.Fatalf("decoded %+v, want %+v", out, u)
	}
	if allocs > 2 {
		t.Fatalf("decoding the user allocated %.0f times, want 2 (the strings' window and the tags)", allocs)
	}
}

// TestUnmarshalOwned: binary values of OwnedBinMin bytes and more are
// slices of the handed-over input, capped so that an append copies; shorter
// ones are copies; UnmarshalLimits copies all.
func TestUnmarshalOwned(t *testing.T) {
	type item struct {
		Small []byte `json:"small"`
		Large []byte `json:"large"`
		After string `json:"after"`
	}
	in := item{Small: []byte("tiny"), Large: make([]byte, protocol.OwnedBinMin), After: "next"}
	for i := range in.Large {
		in.Large[i] = byte(i)
	}
	raw, err := protocol.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	inside := func(p []byte) bool {
		for i := range raw {
			if &raw[i] == &p[0] {
				return true
			}
		}
		return false
	}
	var owned item
	if err := protocol.UnmarshalOwned(raw, &owned, protocol.Limits{}); err != nil {
		t.Fatal(err)
	}
	if string(owned.Large) != string(in.Large) || string(owned.Small) != "tiny" || owned.After != "next" {
		t.Fatalf("decoded %q…, %q, %q", owned.Large[:8], owned.Small, owned.After)
	}
	if !inside(owned.Large) {
		t.Error("the large value was copied")
	}
	if cap(owned.Large) != len(owned.Large) {
		t.Errorf("the large value's capacity is %d, want its length %d: an append would write over the input", cap(owned.Large), len(owned.Large))
	}
	if inside(owned.Small) {
		t.Error("the small value was not copied")
	}
	var copied item
	if err := protocol.Unmarshal(raw, &copied); err != nil {
		t.Fatal(err)
	}
	if inside(copied.Large) || string(copied.Large) != string(in.Large) {
		t.Error("UnmarshalLimits took the large value from its input")
	}
}

// A []byte target decoded on its own (the scalar fast path) follows the
// same rule: a long bin is taken from the handed-over input, a short one
// copied; UnmarshalLimits copies both.
func TestUnmarshalOwnedBytesTarget(t *testing.T) {
	for _, n := range []int{1, protocol.OwnedBinMin - 1, protocol.OwnedBinMin, 5000} {
		raw, err := protocol.Marshal(make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		payload := &raw[len(raw)-n]
		var owned, copied []byte
		if err := protocol.UnmarshalOwned(raw, &owned, protocol.Limits{}); err != nil || len(owned) != n {
			t.Fatalf("%d bytes: %d decoded, %v", n, len(owned), err)
		}
		if err := protocol.Unmarshal(raw, &copied); err != nil || len(copied) != n {
			t.Fatalf("%d bytes: %d decoded, %v", n, len(copied), err)
		}
		if shared := &owned[0] == payload; shared != (n >= protocol.OwnedBinMin) {
			t.Errorf("%d bytes: taken from the input: %v", n, shared)
		}
		if cap(owned) != n {
			t.Errorf("%d bytes: capacity %d", n, cap(owned))
		}
		if &copied[0] == payload {
			t.Errorf("%d bytes: UnmarshalLimits took them from its input", n)
		}
	}
}

// TestUnmarshalLent: UnmarshalLent and UnmarshalScalarLent take what
// UnmarshalOwned takes from their input, and say so exactly when they did,
// so that a caller gives a pooled frame back only when nothing is a slice
// of it.
func TestUnmarshalLent(t *testing.T) {
	type item struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	for _, n := range []int{0, 1, protocol.OwnedBinMin - 1, protocol.OwnedBinMin, 5000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			want := n >= protocol.OwnedBinMin
			raw, err := protocol.Marshal(make([]byte, n))
			if err != nil {
				t.Fatal(err)
			}
			var b []byte
			handled, kept, err := protocol.UnmarshalScalarLent(raw, &b, protocol.Limits{})
			if !handled || err != nil || len(b) != n {
				t.Fatalf("UnmarshalScalarLent: handled %v, %d bytes, %v", handled, len(b), err)
			}
			if kept != want || (n > 0 && (&b[0] == &raw[len(raw)-n]) != want) {
				t.Errorf("UnmarshalScalarLent: kept %v, want %v", kept, want)
			}
			str, err := protocol.Marshal(strings.Repeat("x", n))
			if err != nil {
				t.Fatal(err)
			}
			// A string is always a copy: a string over a frame that is
			// reused would change under its holder.
			var s string
			if handled, kept, err := protocol.UnmarshalScalarLent(str, &s, protocol.Limits{}); !handled || kept || err != nil || s != strings.Repeat("x", n) {
				t.Errorf("a string target: handled %v, kept %v, %d bytes, %v", handled, kept, len(s), err)
			}

			raw, err = protocol.Marshal(item{Name: strings.Repeat("x", n), Data: make([]byte, n)})
			if err != nil {
				t.Fatal(err)
			}
			var it item
			kept, err = protocol.UnmarshalLent(raw, &it, protocol.Limits{})
			if err != nil || len(it.Data) != n || len(it.Name) != n {
				t.Fatalf("UnmarshalLent: %d, %d bytes, %v", len(it.Name), len(it.Data), err)
			}
			if kept != want {
				t.Errorf("UnmarshalLent: kept %v, want %v", kept, want)
			}
			var named struct {
				N int `json:"n"`
			}
			if kept, err := protocol.UnmarshalLent(raw, &named, protocol.Limits{}); err != nil || kept {
				t.Errorf("UnmarshalLent into a struct without the binary field: kept %v (%v); it decoded no long value", kept, err)
			}
		})
	}
}
