package http_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

const calcMethods = "add, count, countThenFail, div, norm, reset, sleep, summarize"

// Through the gateway, a Titan client (the header httptransport.Client
// sends) and the JSON routes get Titan's not-found message, listing what
// exists; other callers of /netron/invoke and /netron/batch (netron-browser)
// keep the original's wording (NETRON-WIRE.md §11.4). An unknown name is
// repeated cut to 64 bytes either way (issue 12, items 4 and 14).
func TestNotFoundMessages(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := client(t)
	long := strings.Repeat("g", 1<<20)
	titan := []string{httptransport.TitanPeerHeader, "1"}
	for _, tt := range []struct {
		name, path, body string
		header           []string
		message          string
	}{
		{"titan: unknown method", "/netron/invoke", `{"id":"a","service":"calculator@1.0.0","method":"nope","input":[]}`, titan,
			`service calculator@1.0.0 has no method "nope" (it has: ` + calcMethods + `)`},
		{"titan: unknown service", "/netron/invoke", `{"id":"b","service":"ghost@^1","method":"x","input":[]}`, titan,
			`no service matches "ghost@^1" (the server has: calculator@1.0.0)`},
		{"titan: a 1 MB name", "/netron/invoke", `{"id":"c","service":"` + long + `","method":"x","input":[]}`, titan,
			`no service matches "` + long[:64] + `"… (the server has: calculator@1.0.0)`},
		{"original: unknown method", "/netron/invoke", `{"id":"d","service":"calculator@1.0.0","method":"nope","input":[]}`, nil,
			"Method nope not found in service calculator@1.0.0"},
		{"original: unknown service", "/netron/invoke", `{"id":"e","service":"ghost@1.0.0","method":"x","input":[]}`, nil,
			"Service ghost@1.0.0 not found"},
		{"original: a 1 MB name", "/netron/invoke", `{"id":"f","service":"` + long + `","method":"x","input":[]}`, nil,
			"Service " + long[:64] + "… not found"},
		{"route: unknown method", "/api/calculator/nope", "[]", nil,
			`service calculator@1.0.0 has no method "nope" (it has: ` + calcMethods + `)`},
		{"rpc route: unknown method", "/rpc/calculator/nope", "[]", nil,
			`service calculator@1.0.0 has no method "nope" (it has: ` + calcMethods + `)`},
		{"rpc route: unknown service", "/rpc/ghost@^2/x", "[]", nil,
			`no service matches "ghost@^2" (the server has: calculator@1.0.0)`},
	} {
		r := post(t, c, s.addr+tt.path, tt.body, tt.header...)
		if r.status != 404 || r.header.Get("X-Titan-Code") != "not_found" {
			t.Errorf("%s: %d %s %.300s", tt.name, r.status, r.header.Get("X-Titan-Code"), r.body)
			continue
		}
		if got := errorOf(t, r)["message"]; got != tt.message {
			t.Errorf("%s:\n got %.300q\nwant %.300q", tt.name, got, tt.message)
		}
	}

	batch := `{"id":"b","requests":[{"id":"q","service":"calculator@1.0.0","method":"nope","input":[]}]}`
	r := post(t, c, s.addr+"/netron/batch", batch)
	if want := `"message":"Method not found: calculator@1.0.0.nope"`; !strings.Contains(string(r.body), want) {
		t.Errorf("batch: %s, want %s", r.body, want)
	}
	r = post(t, c, s.addr+"/netron/batch", batch, titan...)
	if want := `"message":"service calculator@1.0.0 has no method \"nope\" (it has: ` + calcMethods + `)"`; !strings.Contains(string(r.body), want) {
		t.Errorf("titan batch: %s, want %s", r.body, want)
	}

	// The Go client sends the header: its error reads as over the wire.
	hc, err := httptransport.NewClient(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	err = hc.Invoke(context.Background(), nil, "calculator@1.0.0", "nope")
	if want := `not_found: service calculator@1.0.0 has no method "nope" (it has: ` + calcMethods + `)`; netron.CodeOf(err) != netron.CodeNotFound || err.Error() != want {
		t.Errorf("client:\n got %v\nwant %s", err, want)
	}
}
