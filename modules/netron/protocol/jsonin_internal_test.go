package protocol

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/titanframework/titan/internal/jsonwalk"
)

// appendIndexed is AppendJSONDepth by the indexed way alone.
func appendIndexed(dst, text []byte, maxDepth int) ([]byte, error) {
	t := jsonInPool.Get().(*jsonIn)
	defer t.release()
	e := getEncoder(dst)
	defer putEncoder(e)
	t.start(text, e, maxDepth)
	return t.indexed(dst)
}

// takenOnce reports whether AppendJSONDepth writes text in one pass,
// and what that pass wrote.
func takenOnce(text []byte, maxDepth int) ([]byte, bool) {
	t := jsonInPool.Get().(*jsonIn)
	defer t.release()
	e := getEncoder(nil)
	defer putEncoder(e)
	t.start(text, e, maxDepth)
	i, ok := t.once(jsonwalk.Space(text, 0), 0)
	return bytes.Clone(e.buf), ok && jsonwalk.Space(text, i) == len(text)
}

// sameWays checks that AppendJSONDepth and the indexed way write the same
// bytes, or fail with the same error, leaving dst as it was.
func sameWays(t *testing.T, text []byte, maxDepth int) {
	t.Helper()
	dst := []byte{0xc0}
	got, err := AppendJSONDepth(dst, text, maxDepth)
	want, werr := appendIndexed(bytes.Clone(dst), text, maxDepth)
	if fmt.Sprint(err) != fmt.Sprint(werr) {
		t.Fatalf("%.200q (depth %d): one pass: %v; indexed: %v", text, maxDepth, err, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%.200q (depth %d):\n one pass %x\n indexed  %x", text, maxDepth, got, want)
	}
	if err != nil && !bytes.Equal(got, dst) {
		t.Fatalf("%.200q: dst changed on error: %x", text, got)
	}
}

// oneWaySeeds are texts for both ways: every kind of value, headers at
// the fix/16/32 bounds, repeated keys, escapes, invalid text and depths.
func oneWaySeeds() []string {
	seeds := []string{
		`null`, `true`, `false`, `tru`, `nul`, `0`, `-0`, `7`, `-7`, `127`, `128`, `-33`, `255`, `65536`,
		`999999999999999999`, `-999999999999999999`, `1000000000000000000`, `9223372036854775807`,
		`9223372036854775808`, `18446744073709551616`, `1.5`, `-0.0`, `1e3`, `1E400`, `-1e400`, `1e-400`, `01`, `-`, `1.`,
		`""`, `"abc"`, `"é∑😀"`, `"\u00e9\n\t\"\\\/"`, `"\ud800"`, "\"\xff\xfe\"", "\"a\xc3\"", "\"a\x01\"", `"abcdefghijklmnopqrstuvwxyz\u00"`,
		`[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `{}`, `{ }`, `{"a":1,}`, `{"a" 1}`, `{1:2}`, `{"a":1,"a":2}`,
		`{"\u0061":1,"a":2}`, `{"k":{"a":1,"a":[2]}}`, `{"a":1}}`, `[1] x`, ``, ` `, `[`, `{`, `"`,
		` [ 1 , [ 2 , [ 3 ] ] , { "a" : [ ] } ] `, `{"k":"\u00e9","k2":"é"}`, "{\"\xff\":1}",
	}
	for _, n := range []int{15, 16, 17, 255, 256, 65535, 65536} {
		seeds = append(seeds, "["+strings.TrimSuffix(strings.Repeat("1,", n), ",")+"]")
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"k%d":[%d]`, i, i)
		}
		b.WriteString("}")
		seeds = append(seeds, b.String())
	}
	seeds = append(seeds, `{`+strings.Repeat(`"k":1,`, 20)+`"x":2}`)
	return seeds
}

func TestAppendJSONOneWayAndIndexedAgree(t *testing.T) {
	for _, s := range oneWaySeeds() {
		for _, depth := range []int{1, 2, DefaultMaxDepth, DefaultMaxDepth + 1} {
			sameWays(t, []byte(s), depth)
		}
	}
	for _, n := range []int{127, 128, 129} {
		for _, depth := range []int{DefaultMaxDepth, DefaultMaxDepth + 1} {
			sameWays(t, []byte(strings.Repeat("[", n)+strings.Repeat("]", n)), depth)
			sameWays(t, []byte(strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n)), depth)
		}
	}
}

// TestAppendJSONOneWayTakesAPage: a page of records, the gateway's usual
// text, is written in one pass, as the indexed way writes it.
func TestAppendJSONOneWayTakesAPage(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"users":[`)
	for i := range 50 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"Ada Lovelace","email":"ada%d@example.com","score":97.25,"active":true,"role":"member","tags":["mathematics","engines","poetry"],"address":{"city":"London","zip":"10001"},"note":"caf\u00e9 é"}`, 1000+i, i)
	}
	b.WriteString(`]}`)
	text := []byte(b.String())
	got, ok := takenOnce(text, DefaultMaxDepth)
	if !ok {
		t.Fatal("a page of records went the indexed way")
	}
	want, err := appendIndexed(nil, text, DefaultMaxDepth)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("one pass %x\nindexed  %x (%v)", got, want, err)
	}
}

// TestAppendJSONOneWayBudget: text nested so that every level would move
// its contents to make its header longer goes the indexed way, in time
// proportional to the text, with the same bytes.
func TestAppendJSONOneWayBudget(t *testing.T) {
	const levels = 100
	inner := `"` + strings.Repeat("x", 64<<10) + `"`
	text := inner
	for range levels {
		text = "[" + strings.Repeat("0,", 15) + text + "]"
	}
	if _, ok := takenOnce([]byte(text), DefaultMaxDepth); ok {
		t.Fatalf("%d levels of 16 elements around 64 KiB were written in one pass, moving the 64 KiB at every level", levels)
	}
	sameWays(t, []byte(text), DefaultMaxDepth)
}

// FuzzAppendJSONOneWay: the one pass and the indexed way write the same
// bytes, or fail with the same error, for any text and depth.
func FuzzAppendJSONOneWay(f *testing.F) {
	for _, s := range oneWaySeeds() {
		if len(s) < 4096 {
			f.Add([]byte(s), uint8(DefaultMaxDepth))
		}
	}
	f.Fuzz(func(t *testing.T, text []byte, depth uint8) {
		sameWays(t, text, int(depth%16)+1)
		sameWays(t, text, DefaultMaxDepth)
	})
}
