package securitytest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/security" // the guard: rate limits
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Meter is a service under a rate limit.
type Meter struct{}

func (Meter) Tick(context.Context) (int, error) { return 1, nil }

// Free is a service without one.
type Free struct{}

func (Free) Tick(context.Context) (int, error) { return 1, nil }

// The calls the security guard refuses for a rate limit are counted: in
// the calls series with code resource_exhausted (the metrics interceptor
// is outside the guard) and in titan_rate_limit_refusals_total.
func TestRateLimitRefusals(t *testing.T) {
	admin := fmt.Sprintf("127.0.0.1:%d", testsrv.FreePort(t))
	var n *netron.Netron
	testsrv.StartApp(t, testsrv.Settings("netron.listen=tcp://127.0.0.1:0", "metrics.listen="+admin),
		titan.Service("meter", "1.0.0", func() Meter { return Meter{} }, titan.RateLimit(3, time.Minute)),
		titan.Service("free", "1.0.0", func() Free { return Free{} }),
		titan.Invoke(func(nn *netron.Netron) { n = nn }))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := netron.Dial(ctx, n.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	refused := 0
	for range 5 {
		if _, err := p.Call(ctx, "meter@1.0.0", "tick"); netron.CodeOf(err) == netron.CodeResourceExhausted {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Call(ctx, "free@1.0.0", "tick"); err != nil {
			t.Fatal(err)
		}
	}
	if refused != 2 {
		t.Fatalf("%d calls refused, want 2 of 5 under a limit of 3", refused)
	}

	fams := testsrv.Scrape(t, "http://"+admin+"/metrics")
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"rpc_server_calls_finished_total", map[string]string{"rpc_service": "meter", "rpc_response_status_code": "ok"}, 3},
		{"rpc_server_calls_finished_total", map[string]string{"rpc_service": "meter", "rpc_response_status_code": "resource_exhausted"}, 2},
		{"titan_rate_limit_refusals_total", map[string]string{"rpc_service": "meter", "rpc_method": "tick", "transport": "tcp"}, 2},
		{"rpc_server_calls_finished_total", map[string]string{"rpc_service": "free", "rpc_response_status_code": "ok"}, 5},
		{"titan_rate_limit_refusals_total", map[string]string{"rpc_service": "free"}, 0},
	} {
		if got, _ := testsrv.Sample(fams, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}
