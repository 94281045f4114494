package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan/modules/metrics"
	"github.com/titanframework/titan/modules/netron"
)

// The calls a server answers not_found, to a method its service lacks or
// to a service it does not have, are counted under rpc_method (and, for
// an unknown service, rpc_service) "_UNKNOWN": the names the caller gave
// never become label values.
func TestNotFoundCallsCounted(t *testing.T) {
	reg, _, p, ctx := servingCalc(t)
	for range 2 {
		if _, err := p.Call(ctx, "calc@1.0.0", "nosuchmethod", 1); netron.CodeOf(err) != netron.CodeNotFound {
			t.Fatalf("Call(calc.nosuchmethod) = %v, want not_found", err)
		}
	}
	if _, err := p.Call(ctx, "nosuchservice@1.0.0", "add", 1, 2); netron.CodeOf(err) != netron.CodeNotFound {
		t.Fatalf("Call(nosuchservice.add) = %v, want not_found", err)
	}

	wantSeries(t, reg, []string{metrics.LabelService, metrics.LabelMethod, metrics.LabelCode}, map[string]float64{
		"rpc_server_calls_started_total calc _UNKNOWN":                2,
		"rpc_server_calls_finished_total calc _UNKNOWN not_found":     2,
		"rpc_server_calls_started_total _UNKNOWN _UNKNOWN":            1,
		"rpc_server_calls_finished_total _UNKNOWN _UNKNOWN not_found": 1,
		"rpc_server_calls_in_flight calc _UNKNOWN":                    0,
	})
}

// The calls a server answers invalid_argument for a method name that
// breaks the wire rule, before any interceptor runs (over a connection,
// or handed in by a gateway), are counted under rpc_method "_UNKNOWN" of
// their service, or of service "_UNKNOWN" when the service is unknown:
// counted, and never under the name the caller made up.
func TestInvalidMethodNameCallsCounted(t *testing.T) {
	reg, n, p, ctx := servingCalc(t)
	for _, target := range []string{"calc@1.0.0", "calc@1.0.0", "nosuchservice@1.0.0"} {
		if _, err := p.Call(ctx, target, "bad-name-1", 1); netron.CodeOf(err) != netron.CodeInvalidArgument {
			t.Fatalf("Call(%s.bad-name-1) = %v, want invalid_argument", target, err)
		}
	}
	if _, err := n.Invoke(ctx, &netron.Invocation{Service: "calc", Method: "bad-name-2", Transport: "http"}); netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("Invoke(calc.bad-name-2) = %v, want invalid_argument", err)
	}

	wantSeries(t, reg, []string{metrics.LabelService, metrics.LabelMethod, metrics.LabelTransport, metrics.LabelCode}, map[string]float64{
		"rpc_server_calls_started_total calc _UNKNOWN tcp":                       2,
		"rpc_server_calls_finished_total calc _UNKNOWN tcp invalid_argument":     2,
		"rpc_server_calls_started_total _UNKNOWN _UNKNOWN tcp":                   1,
		"rpc_server_calls_finished_total _UNKNOWN _UNKNOWN tcp invalid_argument": 1,
		"rpc_server_calls_started_total calc _UNKNOWN http":                      1,
		"rpc_server_calls_finished_total calc _UNKNOWN http invalid_argument":    1,
		"rpc_server_calls_in_flight calc _UNKNOWN tcp":                           0,
	})
}

// servingCalc returns a Netron serving Calc over tcp with the metrics
// interceptor on reg, and a peer dialled to it, both closed when the test
// ends, with a context of 10 s.
func servingCalc(t *testing.T) (*prometheus.Registry, *netron.Netron, *netron.Peer, context.Context) {
	t.Helper()
	reg := prometheus.NewRegistry()
	ic, err := metrics.NewInterceptor(reg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(ic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	if err := n.Register("calc", "1.0.0", Calc{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	addr, err := n.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := n.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return reg, n, p, ctx
}

// wantSeries checks the rpc_server_ series of reg, summed by their name
// and the values of labels ("name value value ..."), against want, and
// that no label value is a name the tests' callers made up ("nosuch...",
// "bad-name...").
func wantSeries(t *testing.T, reg *prometheus.Registry, labels []string, want map[string]float64) {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "rpc_server_") {
			continue
		}
		for _, m := range f.GetMetric() {
			values := map[string]string{}
			for _, lp := range m.GetLabel() {
				values[lp.GetName()] = lp.GetValue()
				if strings.Contains(lp.GetValue(), "nosuch") || strings.Contains(lp.GetValue(), "bad-name") {
					t.Errorf("%s has the label %s=%q: a name the caller made up", f.GetName(), lp.GetName(), lp.GetValue())
				}
			}
			key := []string{f.GetName()}
			for _, l := range labels {
				key = append(key, values[l])
			}
			got[strings.TrimSpace(strings.Join(key, " "))] += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for key, w := range want {
		if got[key] != w {
			t.Errorf("%s = %v, want %v", key, got[key], w)
		}
	}
	if t.Failed() {
		t.Logf("server series: %v", got)
	}
}
