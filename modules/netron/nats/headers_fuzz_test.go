package nats

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// FuzzCallHeaders feeds any headers and subject of a call, as any NATS
// client may send them, to what the gateway reads of them: no input
// panics; what is accepted is in range (a timeout from 0, windows from 1,
// a valid inbox, metadata only when sent); a refusal names the header it
// refuses; a subject is taken apart only under the gateway's prefix, into
// a qualified name and a method without dots.
func FuzzCallHeaders(f *testing.F) {
	f.Add("1500", `{"authorization":"Bearer x"}`, "7", "16", "65536", "_INBOX.abc", "titan.rpc.calculator.1_0_0.add")
	f.Add("", "", "", "", "", "", "titan.rpc.a.b.c")
	f.Add("-1", "{", "4294967296", "0", "-5", "bad inbox", "titan.rpc.a.b")
	f.Add("99999999999999999999", `{"k":1}`, "x", "1", "1", "a.*", "other.rpc.a.b.c")
	f.Add("1e3", `null`, "0", "2147483648", "9223372036854775808", "a..b", "titan.rpc...")
	s := subjects{prefix: "titan"}
	f.Fuzz(func(t *testing.T, timeout, metadata, stream, window, windowBytes, inbox, subject string) {
		h := nats.Header{}
		for k, v := range map[string]string{HeaderTimeout: timeout, HeaderMetadata: metadata, HeaderStream: stream,
			HeaderWindow: window, HeaderWindowBytes: windowBytes, HeaderInbox: inbox} {
			if v != "" {
				h.Set(k, v)
			}
		}
		c, err := readCallHeaders(h)
		if err != nil {
			named := false
			for _, k := range []string{HeaderTimeout, HeaderMetadata, HeaderStream, HeaderWindow, HeaderWindowBytes, HeaderInbox} {
				named = named || strings.Contains(err.Error(), k)
			}
			if !named {
				t.Fatalf("the refusal %q names no header", err)
			}
		} else {
			if c.timeout < 0 || c.window < 0 || c.windowBytes < 0 {
				t.Fatalf("accepted out of range: timeout %v, window %d, windowBytes %d", c.timeout, c.window, c.windowBytes)
			}
			if (window != "") != (c.window != 0) || (windowBytes != "") != (c.windowBytes != 0) {
				t.Fatalf("window %q -> %d, windowBytes %q -> %d", window, c.window, windowBytes, c.windowBytes)
			}
			if c.inbox != "" && !validTopic(c.inbox) {
				t.Fatalf("accepted the inbox %q", c.inbox)
			}
			if metadata == "" && c.metadata != nil {
				t.Fatalf("metadata %v without the header", c.metadata)
			}
		}
		qualified, method, ok := s.parseCall(subject)
		if !ok {
			return
		}
		if !strings.HasPrefix(subject, "titan.rpc.") || !strings.HasSuffix(subject, "."+method) || strings.Contains(method, ".") {
			t.Fatalf("%q taken apart into %q and %q", subject, qualified, method)
		}
		if name, _, found := strings.Cut(qualified, "@"); !found || strings.Contains(name, ".") {
			t.Fatalf("%q gives the qualified name %q", subject, qualified)
		}
	})
}
