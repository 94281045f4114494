package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/wirevectors"
)

// generalJSON is the path appendRawJSON replaces: decode the whole value
// into the generic model, then write it.
func generalJSON(raw []byte) ([]byte, error) {
	v, err := DecodeValue(raw, Limits{MaxFrameSize: math.MaxInt})
	if err != nil {
		return nil, err
	}
	return appendJSONValue(nil, v, 0, true)
}

// rawJSONSeeds are encodings that reach every branch of appendRawJSON:
// the vectors' values, and maps the streaming writer must hand back to the
// general path (repeated keys, keys that are not strings), undefined
// members, invalid UTF-8, extensions inside containers, trailing bytes.
func rawJSONSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, h := range []string{
		"c0", "d40000", "c3", "7f", "e0", "cf8000000000000000", "cb3ff8000000000000", "cb7ff8000000000000",
		"a3616263", "a2ff61", "c403010203", "93c0d4000001",
		"82a161d40000a16202",               // {a: undefined, b: 2}
		"83a16101a16202a16103",             // {a: 1, b: 2, a: 3}: a keeps its place, takes 3
		"82a161d40000a16101",               // {a: undefined, a: 1}
		"82a161cb7ff8000000000000a16101",   // {a: NaN, a: 1}: the NaN is replaced, no error
		"82a161cb7ff8000000000000a16201",   // {a: NaN, b: 1}: an error
		"820101a16102",                     // {1: 1, a: 2}: a key that is no string
		"81a161d77d0000019000c79c00",       // {a: Date}
		"9281a16191c0d77d0000019000c79c00", // [{a: [null]}, Date]
		"81a2ff6101",                       // a key of invalid UTF-8
		"81a16101c0",                       // trailing bytes
		"82a16101",                         // truncated
		"81a161d40001",                     // d4 00 01 is not undefined
	} {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	var doc struct {
		Vectors []struct {
			Kind, Hex string
		}
	}
	if err := json.Unmarshal(wirevectors.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	for _, v := range doc.Vectors {
		if v.Kind == "msgpack_value" {
			if b, err := hex.DecodeString(v.Hex); err == nil {
				seeds = append(seeds, b)
			}
		}
	}
	type address struct {
		Street string   `json:"street"`
		Tags   []string `json:"tags,omitempty"`
	}
	type user struct {
		ID      int64             `json:"id"`
		Name    string            `json:"name"`
		Score   float64           `json:"score"`
		When    time.Time         `json:"when"`
		Data    []byte            `json:"data"`
		Home    *address          `json:"home"`
		Extra   map[string]any    `json:"extra"`
		Counts  map[int]int       `json:"counts"`
		Missing *address          `json:"missing"`
		Labels  map[string]string `json:"labels"`
	}
	for _, v := range []any{
		user{ID: 1, Name: "a\"b\n\u2028", Score: 0.1, When: time.Unix(1, 0), Data: []byte{0, 255},
			Home: &address{"x", []string{"p", "q"}}, Extra: map[string]any{"k": []any{1, "two", nil}},
			Counts: map[int]int{1: 2}, Labels: map[string]string{"b": "1", "a": "2"}},
		[]any{1e21, math.Copysign(0, -1), 123456789012345678.0, 1.5, int64(math.MinInt64), uint64(math.MaxUint64)},
	} {
		b, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// checkRawJSON fails when appendRawJSON and the general path disagree on
// raw: both fail, or both write the same text.
func checkRawJSON(t *testing.T, raw []byte) {
	t.Helper()
	want, werr := generalJSON(raw)
	got, gerr := appendRawJSON([]byte("prefix"), raw, 0)
	if !bytes.HasPrefix(got, []byte("prefix")) {
		t.Fatalf("%x: appendRawJSON lost what dst held: %q", raw, got)
	}
	got = got[len("prefix"):]
	switch {
	case werr != nil && gerr != nil:
		if len(got) != 0 {
			t.Fatalf("%x: appendRawJSON failed (%v) but left %q", raw, gerr, got)
		}
		// A well-formed value fails for the same reason on both paths (of
		// a malformed one, either of its faults may be named first).
		_, derr := DecodeValue(raw, Limits{MaxFrameSize: math.MaxInt})
		if derr == nil && (errors.Is(werr, ErrNonFinite) != errors.Is(gerr, ErrNonFinite) || errors.Is(werr, ErrTooDeep) != errors.Is(gerr, ErrTooDeep)) {
			t.Fatalf("%x: appendRawJSON failed with %v, the general path with %v", raw, gerr, werr)
		}
	case werr != nil:
		t.Fatalf("%x: appendRawJSON wrote %s where the general path failed: %v", raw, got, werr)
	case gerr != nil:
		t.Fatalf("%x: appendRawJSON failed (%v) where the general path wrote %s", raw, gerr, want)
	case !bytes.Equal(got, want):
		t.Fatalf("%x: appendRawJSON wrote\n%s\nthe general path\n%s", raw, got, want)
	}
}

func TestRawJSONAgrees(t *testing.T) {
	seeds := rawJSONSeeds(t)
	for _, raw := range seeds {
		checkRawJSON(t, raw)
	}
	// Every cut of every seed: truncated values fail on both paths.
	for _, raw := range seeds {
		for i := range raw {
			checkRawJSON(t, raw[:i])
		}
	}
	// Nesting at and beyond the limit.
	for _, n := range []int{DefaultMaxDepth - 1, DefaultMaxDepth, DefaultMaxDepth + 1} {
		deep := append(bytes.Repeat([]byte{0x91}, n), 0xc0)
		checkRawJSON(t, deep)
		deep = append(bytes.Repeat([]byte{0x81, 0xa1, 'k'}, n), 0x01)
		checkRawJSON(t, deep)
	}
	// Maps of more keys than the writer compares pairwise, with a repeat
	// far apart.
	var wide []byte
	wide = append(wide, 0xde, 0, 40)
	for i := range 40 {
		k := byte('A' + i%39)
		wide = append(wide, 0xa1, k, byte(i))
	}
	checkRawJSON(t, wide)
	wide[3+39*3+1] = '~' // now no key repeats
	checkRawJSON(t, wide)
}

// TestRawJSONNoAllocations: a struct answer with strings, lists and a
// nested struct is written without allocating.
func TestRawJSONNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	type address struct {
		City string `json:"city"`
		Zip  string `json:"zip"`
	}
	type user struct {
		ID    int64    `json:"id"`
		Name  string   `json:"name"`
		Score float64  `json:"score"`
		Tags  []string `json:"tags"`
		Home  address  `json:"home"`
	}
	u := user{7, "Ada", 0.5, []string{"a", "b"}, address{"Paris", "75001"}}
	buf := make([]byte, 0, 512)
	var err error
	allocs := testing.AllocsPerRun(100, func() {
		if buf, err = AppendValueJSON(buf[:0], &u); err != nil {
			t.Fatal(err)
		}
	})
	if want := `{"id":7,"name":"Ada","score":0.5,"tags":["a","b"],"home":{"city":"Paris","zip":"75001"}}`; string(buf) != want {
		t.Fatalf("got %s, want %s", buf, want)
	}
	if allocs > 0 {
		t.Fatalf("%v allocations per answer, want 0", allocs)
	}
}

func FuzzRawJSON(f *testing.F) {
	for _, s := range rawJSONSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkRawJSON(t, raw)
	})
}
