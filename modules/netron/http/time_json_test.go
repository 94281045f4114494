package http_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/titantest"
)

type whenArg struct {
	At time.Time `json:"at"`
}

type clockSvc struct{}

func (clockSvc) When(_ context.Context, w whenArg) (int64, error)       { return w.At.Unix(), nil }
func (clockSvc) WhenArg(_ context.Context, at time.Time) (int64, error) { return at.Unix(), nil }

// TestTimeOverJSON: a time.Time argument, sent over HTTP as the RFC 3339
// string a Date becomes in JSON, is accepted; a string that is no such
// time is refused with 400.
func TestTimeOverJSON(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil, titantest.AppFeatures(t, netron.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("clock", "1.0.0", clockSvc{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	c := client(t)
	want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Unix()
	for _, tc := range []struct{ method, input string }{
		{"when", `[{"at":"2026-01-02T03:04:05.000Z"}]`},
		{"whenArg", `["2026-01-02T03:04:05.000Z"]`},
		{"whenArg", `["2026-01-02T04:04:05+01:00"]`},
	} {
		r := post(t, c, addr+"/netron/invoke", `{"id":"1","service":"clock@1.0.0","method":"`+tc.method+`","input":`+tc.input+`}`)
		if r.status != 200 || fmt.Sprint(r.obj(t)["data"]) != fmt.Sprint(want) {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.input, r.status, r.body, want)
		}
	}
	r := post(t, c, addr+"/netron/invoke", `{"id":"1","service":"clock@1.0.0","method":"whenArg","input":["yesterday"]}`)
	if r.status != 400 || !strings.Contains(errorOf(t, r)["message"].(string), "want a date-time") {
		t.Errorf("a string that is no time: %d %s, want 400 asking for a date-time", r.status, r.body)
	}
}
