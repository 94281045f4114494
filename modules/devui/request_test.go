package devui

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

func TestParseCall(t *testing.T) {
	t.Parallel()
	q, err := parseCall([]byte(` {"service":"calc@1.0.0","method":"add","args":[2, {"x":[1,"a"]}, null]} `))
	if err != nil || q.Service != "calc@1.0.0" || q.Method != "add" || len(q.Args) != 3 {
		t.Fatalf("%+v %v", q, err)
	}
	if v, _ := protocol.DecodeValue(q.Args[0], protocol.Limits{}); v != 2.0 && v != int64(2) && v != 2 {
		t.Errorf("argument 1: %#v", v)
	}
	if q, err := parseCall([]byte(`{"service":"s","method":"m"}`)); err != nil || q.Args != nil {
		t.Errorf("no args: %+v %v", q, err)
	}
	for _, tt := range []struct{ body, want string }{
		{``, "it is empty"},
		{" \n", "it is empty"},
		{`[]`, "cannot unmarshal array"},
		{`{"service":"s","method":"m"} {}`, "data after"},
		{`{"service":"s","method":"m","args":"x"}`, "JSON array"},
		{`{"service":"s","method":"m","args":[1e400]}`, "args"},
		{`{"service":"s","method":"m","args":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, "args"},
		{`{"service":"","method":"m"}`, "no service"},
		{`{"service":"s"}`, "no method"},
		{`{"service":"s","method":"m","extra":1}`, "extra"},
	} {
		_, err := parseCall([]byte(tt.body))
		if err == nil || netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%.60s: %v, want invalid_argument saying %q", tt.body, err, tt.want)
		}
	}
}

// FuzzParseCall: any body is refused as invalid_argument or read into a
// service, a method and as many encoded arguments as its args array has
// elements, each one decodable value.
func FuzzParseCall(f *testing.F) {
	for _, s := range []string{
		`{"service":"calc@1.0.0","method":"add","args":[2,3]}`,
		`{"service":"s","method":"m","args":[{"a":[1,2,{"b":null}]},"x",true,-1.5e3]}`,
		`{"service":"s","method":"m","args":null}`,
		`{"service":"s","method":"m","args":[1e400]}`,
		`{"service":"s","method":"m","args":[` + strings.Repeat("[", 130) + strings.Repeat("]", 130) + `]}`,
		`{"Service":"s","METHOD":"m","args":[]}`,
		`{"service":"s","service":"t","method":"m"}`,
		`{"service":"s","method":"m","args":["\ud800"]}`,
	} {
		f.Add([]byte(s))
	}
	lim := protocol.Limits{MaxFrameSize: math.MaxInt, MaxDepth: protocol.DefaultMaxDepth + 1}
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := parseCall(body)
		if err != nil {
			if netron.CodeOf(err) != netron.CodeInvalidArgument {
				t.Fatalf("%q: %v, want invalid_argument", body, err)
			}
			return
		}
		if q.Service == "" || q.Method == "" {
			t.Fatalf("%q: read as %+v", body, q)
		}
		for i, a := range q.Args {
			if _, err := protocol.DecodeValue(a, lim); err != nil {
				t.Fatalf("%q: argument %d does not decode: %v", body, i+1, err)
			}
		}
		var v struct {
			Args []json.RawMessage `json:"args"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%q was read, but encoding/json refuses it: %v", body, err)
		}
		if len(v.Args) != len(q.Args) {
			t.Fatalf("%q: %d arguments, encoding/json sees %d", body, len(q.Args), len(v.Args))
		}
	})
}

func TestParseClientMessage(t *testing.T) {
	t.Parallel()
	if m, err := parseClientMessage([]byte(`{"subscribe":"a.*","token":"t"}`)); err != nil || m.Subscribe != "a.*" || m.Token != "t" {
		t.Errorf("%+v %v", m, err)
	}
	if m, err := parseClientMessage([]byte(`{"unsubscribe":">"}`)); err != nil || m.Unsubscribe != ">" {
		t.Errorf("%+v %v", m, err)
	}
}

// FuzzParseClientMessage: a message of the event feed is refused as
// invalid_argument, or names exactly one pattern of at most maxPattern
// bytes.
func FuzzParseClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"subscribe":"calculator.*","token":"abc"}`, `{"unsubscribe":">"}`, `{}`,
		`{"subscribe":"a","unsubscribe":"b"}`, `{"subscribe":null}`, `{"subscribe":1}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseClientMessage(b)
		if err != nil {
			if netron.CodeOf(err) != netron.CodeInvalidArgument {
				t.Fatalf("%q: %v, want invalid_argument", b, err)
			}
			return
		}
		p := m.Subscribe + m.Unsubscribe
		if (m.Subscribe == "") == (m.Unsubscribe == "") || len(p) > maxPattern {
			t.Fatalf("%q: read as %+v", b, m)
		}
	})
}
