package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
)

// stringByEncodingJSON writes s as JSON.stringify does, through
// encoding/json: the reference FuzzAppendString holds AppendJSONString
// to. encoding/json escapes what JSON.stringify escapes (quotes,
// backslashes, control characters, with \b \f \n \r \t) and replaces each
// byte of invalid UTF-8 with U+FFFD, as AppendJSONString does; it writes
// that U+FFFD escaped, and escapes U+2028 and U+2029, which
// JSON.stringify leaves as they are: those three are unescaped here.
func stringByEncodingJSON(t *testing.T, s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		switch esc := string(b[i : i+min(6, len(b)-i)]); esc {
		case `\u2028`:
			out = append(out, "\u2028"...)
			i += 5
		case `\u2029`:
			out = append(out, "\u2029"...)
			i += 5
		case `\ufffd`: // encoding/json's escape of invalid UTF-8
			out = append(out, "\ufffd"...)
			i += 5
		default: // another escape: its two first bytes, so that \\ stays whole
			out = append(out, b[i], b[i+1])
			i++
		}
	}
	return string(out)
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain ascii text, long enough", "tab\there", `quote" and \ backslash`,
		"é ü 日本 \u2028 \u2029", `\u2028 written out`, "\x00\x01\x08\x0c\x1f\x7f", "bad \xff\xfe utf8 \xe2\x82", "12345678\"12345678\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendJSONString(nil, s)), stringByEncodingJSON(t, s); got != want {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}
