package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/health"
	"github.com/titanframework/titan/modules/netron"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Calc is the service of the tests.
type Calc struct{}

func (Calc) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }

func (Calc) Div(_ context.Context, a, b float64) (float64, error) {
	if b == 0 {
		return 0, netron.Errorf(netron.CodeInvalidArgument, "division by zero")
	}
	return a / b, nil
}

func (Calc) Count(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if ctx.Err() != nil || !yield(i, nil) {
				return
			}
		}
	}
}

// Watch yields one item, then returns when its context ends: the usual
// way an iterator honours its context.
func (Calc) Watch(ctx context.Context) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		if !yield(1, nil) {
			return
		}
		<-ctx.Done()
	}
}

// testApp is a started app serving calc@1.0.0.
type testApp struct {
	app   *titan.App
	n     *netron.Netron
	admin string // http://host:port of the admin server
	addrs map[string]string
}

// dialSelf dials the app's tcp listener from its own Netron: the calls
// made through the peer are the app's client side. The test closes it.
func (ta *testApp) dialSelf(t *testing.T, ctx context.Context) *netron.Peer {
	t.Helper()
	p, err := ta.n.Dial(ctx, ta.addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// startApp starts an app serving calc@1.0.0 on listen (URLs), with its
// admin server on a free port, the sets and opts.
func startApp(t *testing.T, listen string, sets []string, opts ...titan.Option) *testApp {
	t.Helper()
	ta := &testApp{admin: fmt.Sprintf("127.0.0.1:%d", testsrv.FreePort(t)), addrs: map[string]string{}}
	sets = append([]string{"netron.listen=" + listen, "metrics.listen=" + ta.admin}, sets...)
	opts = append([]titan.Option{testsrv.Settings(sets...),
		titan.Service("calc", "1.0.0", func() Calc { return Calc{} }),
		titan.Invoke(func(n *netron.Netron) { ta.n = n }),
	}, opts...)
	ta.app = testsrv.StartApp(t, opts...)
	ta.admin = "http://" + ta.admin
	for _, a := range ta.n.Addrs() {
		scheme, _, _ := strings.Cut(a, ":")
		ta.addrs[scheme] = a
	}
	return ta
}

// dial dials addr and closes the peer when the test ends.
func dial(t *testing.T, addr string) *netron.Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := netron.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// scrape and sample are testsrv.Scrape and testsrv.Sample.
var (
	scrape = testsrv.Scrape
	sample = testsrv.Sample
)

// labels is a shorthand for the labels of a call series.
func labels(method, transport string, code ...string) map[string]string {
	l := map[string]string{"rpc_system": "netron", "rpc_service": "calc", "rpc_method": method, "transport": transport}
	if len(code) > 0 {
		l["rpc_response_status_code"] = code[0]
	}
	return l
}

// getReport reads a health endpoint.
func getReport(t *testing.T, url string) (int, health.Report) {
	t.Helper()
	resp, err := testsrv.HTTPClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep health.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatalf("GET %s (%s): %v", url, resp.Status, err)
	}
	return resp.StatusCode, rep
}

// eventually polls cond every 20ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool, seen ...func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			if len(seen) > 0 {
				t.Fatalf("%s: not within %v; last seen: %s", what, d, seen[0]())
			}
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
