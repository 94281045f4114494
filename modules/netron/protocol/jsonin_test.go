package protocol_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// viaGeneric is the path AppendJSON replaces: encoding/json's generic
// decode (numbers as json.Number), FromJSON, Marshal.
func viaGeneric(text []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", protocol.ErrMalformed, err)
	}
	if dec.More() || !json.Valid(text) {
		return nil, fmt.Errorf("%w: trailing data", protocol.ErrMalformed)
	}
	g, err := protocol.FromJSON(v)
	if err != nil {
		return nil, err
	}
	return protocol.Marshal(g)
}

// canonical re-encodes a MessagePack value with every object's keys
// sorted: AppendJSON keeps the text's order, the generic path sorts.
func canonical(t *testing.T, b []byte) []byte {
	t.Helper()
	v, err := protocol.DecodeValue(b, protocol.Limits{})
	if err != nil {
		t.Fatalf("decode %x: %v", b, err)
	}
	out, err := protocol.Marshal(sortKeys(v))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortKeys(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = sortKeys(x[i])
		}
	case protocol.Object:
		slices.SortFunc(x, func(a, b protocol.Field) int { return strings.Compare(a.Key, b.Key) })
		for i := range x {
			x[i].Value = sortKeys(x[i].Value)
		}
	}
	return v
}

// agree checks AppendJSON against the generic path: the same error class,
// or the same value (byte for byte once keys are sorted).
func agree(t *testing.T, text []byte) {
	t.Helper()
	want, werr := viaGeneric(text)
	got, err := protocol.AppendJSON(nil, text)
	if (err == nil) != (werr == nil) {
		t.Fatalf("%q: AppendJSON err %v, generic path err %v", text, err, werr)
	}
	if err != nil {
		for _, class := range []error{protocol.ErrMalformed, protocol.ErrTooDeep, protocol.ErrTooLarge} {
			if errors.Is(err, class) != errors.Is(werr, class) {
				t.Fatalf("%q: AppendJSON err %v, generic path err %v", text, err, werr)
			}
		}
		return
	}
	if !bytes.Equal(canonical(t, got), canonical(t, want)) {
		t.Fatalf("%q:\n AppendJSON %x\n generic    %x", text, got, want)
	}
	// Each object written once per key, with minimal headers: decoding
	// (which would merge repeated keys) and encoding again changes nothing.
	v, err := protocol.DecodeValue(got, protocol.Limits{})
	if err != nil {
		t.Fatalf("%q: decode %x: %v", text, got, err)
	}
	if again, err := protocol.Marshal(v); err != nil || !bytes.Equal(again, got) {
		t.Fatalf("%q: AppendJSON %x, its value encodes as %x (%v)", text, got, again, err)
	}
}

var jsonSeeds = []string{
	`null`, `true`, `false`, `0`, `-0`, `1`, `-1`, `127`, `128`, `-33`, `4294967295`, `4294967296`,
	`9007199254740993`, `-9007199254740993`, `18446744073709551615`, `18446744073709551616`, `-9223372036854775809`,
	`1.5`, `1.0`, `-0.0`, `1e3`, `1E400`, `-1e400`, `1e-400`, `123456789.125`,
	`""`, `"abc"`, `"é∑😀"`, `"\u00e9\n\t\"\\\/"`, `"\ud83d\ude00"`, `"\ud800"`, `"\udc00x"`, "\"\xff\xfe\"", "\"a\xc3\"",
	`[]`, `[1,"a",null,true,[],{}]`, ` [ 1 , [ 2 , [ 3 ] ] , { "a" : [ ] } ] `,
	`{}`, `{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"a":{"x":1},"b":[1,{"c":2}],"a":[3]}`, `{"\u0061":1,"a":2}`, `{"":0}`,
	`{"k":"\u00e9","k2":"é"}`, `[{"a":1,"b":2,"a":3}]`,
	`[1,]`, `{"a":}`, `[1] x`, `01`, `+1`, `NaN`, `"unterminated`, `{"a" 1}`, `[`, ``, ` `, `nul`,
}

func TestAppendJSONAgreesWithTheGenericPath(t *testing.T) {
	for _, s := range jsonSeeds {
		agree(t, []byte(s))
	}
	many := `{` + strings.Repeat(`"k":1,`, 40)
	for i := range 40 {
		many += fmt.Sprintf(`"k%d":%d,`, i, i)
	}
	agree(t, []byte(many+`"k":2}`))
	// Nesting: 128 containers are accepted, 129 are not, as on the
	// generic path.
	for _, n := range []int{127, 128, 129, 200} {
		agree(t, []byte(strings.Repeat("[", n)+strings.Repeat("]", n)))
		agree(t, []byte(strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n)))
	}
	// A map with more keys than map16 holds is refused on both paths.
	var b strings.Builder
	b.WriteString("{")
	for i := range 70000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"%d":0`, i)
	}
	b.WriteString("}")
	agree(t, []byte(b.String()))
}

// TestAppendJSONKeyOrder: keys keep the text's order; a repeated key keeps
// its first place and takes its last value (JSON.parse).
func TestAppendJSONKeyOrder(t *testing.T) {
	for _, c := range []struct {
		text string
		want protocol.Object
	}{
		{`{"b":1,"a":2}`, protocol.Object{{Key: "b", Value: int64(1)}, {Key: "a", Value: int64(2)}}},
		{`{"b":1,"a":2,"b":3}`, protocol.Object{{Key: "b", Value: int64(3)}, {Key: "a", Value: int64(2)}}},
		{`{"a":[1],"b":{"c":1},"a":{"d":[2]}}`, protocol.Object{
			{Key: "a", Value: protocol.Object{{Key: "d", Value: []any{int64(2)}}}},
			{Key: "b", Value: protocol.Object{{Key: "c", Value: int64(1)}}}}},
		{`{"\u0062":1,"b":2}`, protocol.Object{{Key: "b", Value: int64(2)}}},
	} {
		b, err := protocol.AppendJSON(nil, []byte(c.text))
		if err != nil {
			t.Fatalf("%s: %v", c.text, err)
		}
		v, err := protocol.DecodeValue(b, protocol.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%#v", v) != fmt.Sprintf("%#v", c.want) {
			t.Errorf("%s: got %#v, want %#v", c.text, v, c.want)
		}
	}
}

// TestAppendJSONErrors: invalid JSON names the problem as encoding/json
// does; dst is returned unchanged.
func TestAppendJSONErrors(t *testing.T) {
	dst := []byte{1, 2}
	out, err := protocol.AppendJSON(dst, []byte(`{not json`))
	if !errors.Is(err, protocol.ErrMalformed) || !strings.Contains(err.Error(), "invalid character 'n'") {
		t.Fatalf("err %v", err)
	}
	if !bytes.Equal(out, dst) {
		t.Fatalf("dst changed: %x", out)
	}
	out, err = protocol.AppendJSON(dst, []byte(`"x"`))
	if err != nil || hex.EncodeToString(out) != "0102a178" {
		t.Fatalf("append: %x %v", out, err)
	}
}

// FuzzAppendJSON: AppendJSON agrees with the generic path on any text.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		agree(t, text)
	})
}

// TestJSONNumberOutOfRange: a JSON number beyond the float64 range is refused with
// ErrTooLarge at its offset, on both paths, instead of becoming ±Inf; a tiny one is 0.
func TestJSONNumberOutOfRange(t *testing.T) {
	for _, tc := range []struct {
		text string
		off  int
	}{{`1e400`, 0}, {`[1, -1e400]`, 4}, {`{"a":[2e999]}`, 6}} {
		_, err := protocol.AppendJSON(nil, []byte(tc.text))
		var de *protocol.DecodeError
		if !errors.Is(err, protocol.ErrTooLarge) || !errors.As(err, &de) || de.Offset != tc.off ||
			!strings.Contains(err.Error(), "out of range") {
			t.Errorf("AppendJSON(%s) = %v, want ErrTooLarge at offset %d", tc.text, err, tc.off)
		}
	}
	if _, err := protocol.FromJSON(json.Number("1e400")); !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("FromJSON(1e400) = %v, want ErrTooLarge", err)
	}
	if b, err := protocol.AppendJSON(nil, []byte(`1e-400`)); err != nil || !bytes.Equal(b, []byte{0}) {
		t.Errorf("AppendJSON(1e-400) = %x, %v; want 0", b, err)
	}
}
