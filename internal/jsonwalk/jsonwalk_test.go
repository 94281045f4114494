package jsonwalk

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMembers(t *testing.T) {
	text := []byte(` { "a" : 1 , "b\"" :{"x":[1,"]"]} ,"c":"}", "a":[ ], "\u0064":null } `)
	var got []string
	Members(text, func(key, value []byte) bool {
		got = append(got, Unquote(key)+"="+string(value))
		return true
	})
	want := `a=1|b"={"x":[1,"]"]}|c="}"|a=[ ]|d=null`
	if s := strings.Join(got, "|"); s != want {
		t.Fatalf("got %s, want %s", s, want)
	}
	n := 0
	Members(text, func(key, value []byte) bool { n++; return false })
	if n != 1 {
		t.Fatalf("did not stop: %d calls", n)
	}
	for _, notObject := range []string{`[1]`, `"x"`, `1`, `{}`, ``} {
		Members([]byte(notObject), func(key, value []byte) bool {
			t.Fatalf("%s: member %s", notObject, key)
			return true
		})
	}
}

func TestEnd(t *testing.T) {
	for _, c := range []string{`"a\"b"`, `12.5e-3`, `true`, `null`, `[1,[2,"]"],{"a":"}"}]`, `{"a":{"b":[]}}`} {
		text := c + ` , 9`
		if e := End([]byte(text), 0); text[:e] != c {
			t.Errorf("End(%s) = %q", text, text[:e])
		}
	}
}

// TestUnquote agrees with encoding/json, invalid UTF-8 and lone
// surrogates included.
func TestUnquote(t *testing.T) {
	for _, c := range []string{`""`, `"abc"`, `"é∑😀"`, `"\u00e9\n\"\\\/"`, `"\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", "\"a\xc3\""} {
		var want string
		if err := json.Unmarshal([]byte(c), &want); err != nil {
			t.Fatal(err)
		}
		if got := Unquote([]byte(c)); got != want {
			t.Errorf("Unquote(%q) = %q, want %q", c, got, want)
		}
		if got := View([]byte(c)); got != want {
			t.Errorf("View(%q) = %q, want %q", c, got, want)
		}
		in := []byte(c[1 : len(c)-1])
		if Plain(in) != (string(in) == want) {
			t.Errorf("Plain(%q) = %v", in, Plain(in))
		}
	}
}

func TestElementAt(t *testing.T) {
	arr := []byte(` [ 1, "a,]" , {"k":[2,3]},4 ] `)
	for _, tt := range []struct{ off, want int }{
		{3, 1},  // 1
		{8, 2},  // the comma inside "a,]"
		{9, 2},  // the bracket inside it
		{17, 3}, // inside the object
		{21, 3}, // the comma inside its list
		{26, 4}, // 4
		{0, 1},  // before the array
	} {
		if got := ElementAt(arr, tt.off); got != tt.want {
			t.Errorf("ElementAt(%q, %d) = %d, want %d", arr, tt.off, got, tt.want)
		}
	}
	if got := ElementAt([]byte(`[]`), 1); got != 1 {
		t.Errorf("in an empty array: %d, want 1", got)
	}
}
