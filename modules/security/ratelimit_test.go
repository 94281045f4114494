package security_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/security"
	_ "github.com/titanframework/titan/modules/security/ratelimit/redis"
)

// Meter is the rate-limited service of the tests.
type Meter struct{}

func (Meter) Tick(context.Context) (int, error) { return 1, nil }

// meterApp starts an app serving meter@1.0.0 at 100 calls per minute on
// tcp:// and http://, with sets, and returns its addresses by scheme.
func meterApp(t *testing.T, sets ...string) map[string]string {
	t.Helper()
	var n *netron.Netron
	testsrv.StartApp(t, testsrv.Settings(append([]string{"netron.listen=tcp://127.0.0.1:0,http://127.0.0.1:0"}, sets...)...),
		titan.Service("meter", "1.0.0", func() Meter { return Meter{} }, titan.RateLimit(100, time.Minute)),
		titan.Invoke(func(x *netron.Netron) { n = x }))
	out := map[string]string{}
	for _, a := range n.Addrs() {
		out[a[:strings.Index(a, "://")]] = a
	}
	return out
}

// hammer runs callers goroutines calling meter@1.0.0.tick through peers
// (round robin) for d and counts the successes; every refusal must be
// resource_exhausted with a retry-after.
func hammer(t *testing.T, peers []*netron.Peer, callers int, d time.Duration) int64 {
	t.Helper()
	var ok atomic.Int64
	var wg sync.WaitGroup
	var bad atomic.Value
	end := time.Now().Add(d)
	for i := range callers {
		p := peers[i%len(peers)]
		wg.Go(func() {
			for time.Now().Before(end) {
				_, err := p.Call(context.Background(), "meter@1.0.0", "tick")
				switch {
				case err == nil:
					ok.Add(1)
				case netron.CodeOf(err) != netron.CodeResourceExhausted || !strings.Contains(err.Error(), "retry in"):
					bad.Store(err)
				}
			}
		})
	}
	wg.Wait()
	if err, _ := bad.Load().(error); err != nil {
		t.Fatalf("a refusal is not resource_exhausted with a retry time: %v", err)
	}
	return ok.Load()
}

func dialAll(t *testing.T, addrs ...string) []*netron.Peer {
	t.Helper()
	var out []*netron.Peer
	for _, a := range addrs {
		p, err := netron.Dial(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		out = append(out, p)
	}
	return out
}

// 8 callers for 1 s against 100 per minute get exactly 100 successes:
// they make thousands of calls, and the window began with the first.
func TestRateLimitInProcess(t *testing.T) {
	t.Parallel()
	addrs := meterApp(t)
	if got := hammer(t, dialAll(t, addrs["tcp"], addrs["tcp"]), 8, time.Second); got != 100 {
		t.Fatalf("%d calls succeeded, want exactly 100", got)
	}
}

// Two instances sharing Redis give 100 in total, not 200.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	prefix := testsrv.RedisPrefix(t, url)
	sets := []string{"security.rateLimit.backend=redis", "security.rateLimit.url=" + url, "security.rateLimit.prefix=" + prefix}
	a, b := meterApp(t, sets...), meterApp(t, sets...)
	if got := hammer(t, dialAll(t, a["tcp"], b["tcp"]), 8, time.Second); got != 100 {
		t.Fatalf("%d calls succeeded over two instances, want exactly 100 in total", got)
	}
}

// Redis out of reach: calls are refused (unavailable) by default, let
// through with failOpen.
func TestRateLimitRedisDown(t *testing.T) {
	t.Parallel()
	for _, failOpen := range []bool{false, true} {
		t.Run(fmt.Sprint("failOpen=", failOpen), func(t *testing.T) {
			addrs := meterApp(t, "security.rateLimit.backend=redis", "security.rateLimit.url=redis://127.0.0.1:1/0",
				"security.rateLimit.failOpen="+strconv.FormatBool(failOpen))
			p := dialAll(t, addrs["tcp"])[0]
			_, err := p.Call(context.Background(), "meter@1.0.0", "tick")
			if failOpen && err != nil {
				t.Fatalf("failOpen: %v", err)
			}
			if !failOpen && netron.CodeOf(err) != netron.CodeUnavailable {
				t.Fatalf("failClosed: %v, want unavailable", err)
			}
		})
	}
}

// HTTP callers past the limit see 429 with Retry-After.
func TestRateLimitHTTP(t *testing.T) {
	t.Parallel()
	addrs := meterApp(t)
	url := "http" + strings.TrimPrefix(addrs["http"], "http") + "/netron/invoke"
	body := `{"id":"1","service":"meter@1.0.0","method":"tick","input":[]}`
	codes := map[int]int{}
	var last *http.Response
	for range 101 {
		resp, err := testsrv.HTTPClient.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
		last = resp
	}
	if codes[200] != 100 || codes[429] != 1 {
		t.Fatalf("statuses %v, want 100 × 200 then 429", codes)
	}
	ra, err := strconv.Atoi(last.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 120 {
		t.Fatalf("Retry-After %q, want whole seconds within the window", last.Header.Get("Retry-After"))
	}
	if last.Header.Get("X-Titan-Code") != "resource_exhausted" {
		t.Fatalf("X-Titan-Code %q", last.Header.Get("X-Titan-Code"))
	}
}

// Meter2 has a method with a limit of its own.
type Meter2 struct{}

func (Meter2) Tick(context.Context) (int, error) { return 1, nil }
func (Meter2) Tock(context.Context) (int, error) { return 2, nil }

// A method's own limit counts its calls alone; the service's limit counts
// the calls of its other methods together.
func TestRateLimitPerMethod(t *testing.T) {
	t.Parallel()
	var n *netron.Netron
	testsrv.StartApp(t, testsrv.Settings("netron.listen=tcp://127.0.0.1:0"),
		titan.Service("meter2", "1.0.0", func() Meter2 { return Meter2{} },
			titan.RateLimit(5, time.Minute), titan.Method("tock", titan.RateLimit(2, time.Minute))),
		titan.Invoke(func(x *netron.Netron) { n = x }))
	p := dialAll(t, n.Addrs()[0])[0]
	count := func(method string, tries int) (ok int) {
		for range tries {
			if _, err := p.Call(context.Background(), "meter2@1.0.0", method); err == nil {
				ok++
			}
		}
		return ok
	}
	if got := count("tock", 5); got != 2 {
		t.Fatalf("tock: %d of 5 calls passed, want its own limit of 2", got)
	}
	if got := count("tick", 8); got != 5 {
		t.Fatalf("tick: %d of 8 calls passed, want the service's 5 (tock's calls not counted)", got)
	}
}
