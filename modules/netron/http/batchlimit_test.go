package http_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// Tally counts its calls.
type Tally struct{ calls atomic.Int64 }

func (t *Tally) Hit(context.Context) error { t.calls.Add(1); return nil }

// listenTally serves a Tally and services more services over HTTP with opts.
func listenTally(t *testing.T, more int, opts ...httptransport.Option) (addr string, tally *Tally) {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tally = &Tally{}
	if err := n.Register("tally", "1.0.0", tally); err != nil {
		t.Fatal(err)
	}
	for i := range more {
		if err := n.Register(fmt.Sprintf("service-with-a-rather-long-name-%04d", i), "1.0.0", &Tally{}); err != nil {
			t.Fatal(err)
		}
	}
	g := listenGateway(t, n, opts...)
	return g.Addr(), tally
}

// batchOf is a /netron/batch body of n requests of service.method.
func batchOf(n int, service, method string) string {
	var b strings.Builder
	b.WriteString(`{"id":"b","requests":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"q%d","service":%q,"method":%q,"input":[]}`, i, service, method)
	}
	b.WriteString(`]}`)
	return b.String()
}

// TestBatchSizeBound: a batch of more requests than the limit (100 by
// default, http.maxBatch) is answered 413 with a message naming the count
// and the limit, before any of its requests runs; a batch at the limit
// runs.
func TestBatchSizeBound(t *testing.T) {
	t.Parallel()
	c := client(t)
	section, err := httptransport.Config{MaxBatch: 5}.Options()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		opts  []httptransport.Option
		limit int
	}{
		{"default", nil, httptransport.DefaultMaxBatchSize},
		{"WithMaxBatchSize", []httptransport.Option{httptransport.WithMaxBatchSize(3)}, 3},
		{"http.maxBatch", section, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, tally := listenTally(t, 0, tc.opts...)
			r := post(t, c, addr+"/netron/batch", batchOf(10000, "tally@1.0.0", "hit"))
			if r.status != 413 {
				t.Fatalf("a batch of 10000: %d %.200s… (%d requests ran); want 413", r.status, r.body, tally.calls.Load())
			}
			msg, _ := errorOf(t, r)["message"].(string)
			if !strings.Contains(msg, "10000 requests") || !strings.Contains(msg, "limit of "+strconv.Itoa(tc.limit)) ||
				!strings.Contains(msg, "http.maxBatch") {
				t.Errorf("a batch of 10000: %d %.300s; want a message naming the count, the limit of %d and http.maxBatch", r.status, r.body, tc.limit)
			}
			if got := r.header.Get("X-Titan-Code"); got != "resource_exhausted" {
				t.Errorf("X-Titan-Code %q, want resource_exhausted", got)
			}
			if n := tally.calls.Load(); n != 0 {
				t.Errorf("%d requests of the refused batch ran, want none", n)
			}
			r = post(t, c, addr+"/netron/batch", batchOf(tc.limit, "tally@1.0.0", "hit"))
			if r.status != 200 || tally.calls.Load() != int64(tc.limit) {
				t.Errorf("a batch of %d (the limit): %d %.300s, %d calls", tc.limit, r.status, r.body, tally.calls.Load())
			}
		})
	}
}

// TestBatchAnswerBounded: the answer to a batch of unknown services, each
// of whose errors lists the services that exist, stays small however many
// services the server has: at most netron.ListLimit names an item, times
// the batch limit.
func TestBatchAnswerBounded(t *testing.T) {
	t.Parallel()
	addr, _ := listenTally(t, 500)
	r := post(t, client(t), addr+"/netron/batch", batchOf(httptransport.DefaultMaxBatchSize, "nosuch", "hit"), httptransport.TitanPeerHeader, "1")
	if r.status != 200 || !strings.Contains(string(r.body), "and 481 more") {
		t.Fatalf("%d %.500s; want 200 with not-found errors that count the services past the list", r.status, r.body)
	}
	// An item: {"id":"q99","success":false,"error":{"code":"404","message":"no service
	// matches \"nosuch\" (the server has: <20 names of 41 bytes>, and 481 more)"}}.
	if max := httptransport.DefaultMaxBatchSize * (netron.ListLimit*(len("service-with-a-rather-long-name-0000@1.0.0")+2) + 200); len(r.body) > max {
		t.Fatalf("answer of %d bytes, want at most %d", len(r.body), max)
	}
}
