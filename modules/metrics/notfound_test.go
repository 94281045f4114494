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
	reg := prometheus.NewRegistry()
	ic, err := metrics.NewInterceptor(reg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(ic))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calc", "1.0.0", Calc{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := n.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := n.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 2 {
		if _, err := p.Call(ctx, "calc@1.0.0", "nosuchmethod", 1); netron.CodeOf(err) != netron.CodeNotFound {
			t.Fatalf("Call(calc.nosuchmethod) = %v, want not_found", err)
		}
	}
	if _, err := p.Call(ctx, "nosuchservice@1.0.0", "add", 1, 2); netron.CodeOf(err) != netron.CodeNotFound {
		t.Fatalf("Call(nosuchservice.add) = %v, want not_found", err)
	}

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{} // "name service method code" -> value
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "rpc_server_") {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
				if strings.Contains(lp.GetValue(), "nosuch") {
					t.Errorf("%s has the label %s=%q: a name the caller made up", f.GetName(), lp.GetName(), lp.GetValue())
				}
			}
			key := strings.TrimSpace(strings.Join([]string{f.GetName(),
				labels[metrics.LabelService], labels[metrics.LabelMethod], labels[metrics.LabelCode]}, " "))
			got[key] += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"rpc_server_calls_started_total calc _UNKNOWN":                2,
		"rpc_server_calls_finished_total calc _UNKNOWN not_found":     2,
		"rpc_server_calls_started_total _UNKNOWN _UNKNOWN":            1,
		"rpc_server_calls_finished_total _UNKNOWN _UNKNOWN not_found": 1,
		"rpc_server_calls_in_flight calc _UNKNOWN":                    0,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if t.Failed() {
		t.Logf("server series: %v", got)
	}
}

// The calls a server answers invalid_argument for a method name that
// breaks the wire rule, before any interceptor runs (over a connection,
// or handed in by a gateway), are counted under rpc_method "_UNKNOWN" of
// their service, or of service "_UNKNOWN" when the service is unknown:
// counted, and never under the name the caller made up.
func TestInvalidMethodNameCallsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	ic, err := metrics.NewInterceptor(reg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(ic))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calc", "1.0.0", Calc{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := n.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := n.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, target := range []string{"calc@1.0.0", "calc@1.0.0", "nosuchservice@1.0.0"} {
		if _, err := p.Call(ctx, target, "bad-name-1", 1); netron.CodeOf(err) != netron.CodeInvalidArgument {
			t.Fatalf("Call(%s.bad-name-1) = %v, want invalid_argument", target, err)
		}
	}
	if _, err := n.Invoke(ctx, &netron.Invocation{Service: "calc", Method: "bad-name-2", Transport: "http"}); netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("Invoke(calc.bad-name-2) = %v, want invalid_argument", err)
	}

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{} // "name service method transport code" -> value
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "rpc_server_calls_") {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
				if strings.Contains(lp.GetValue(), "bad-name") || strings.Contains(lp.GetValue(), "nosuch") {
					t.Errorf("%s has the label %s=%q: a name the caller made up", f.GetName(), lp.GetName(), lp.GetValue())
				}
			}
			key := strings.TrimSpace(strings.Join([]string{f.GetName(), labels[metrics.LabelService],
				labels[metrics.LabelMethod], labels[metrics.LabelTransport], labels[metrics.LabelCode]}, " "))
			got[key] += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"rpc_server_calls_started_total calc _UNKNOWN tcp":                       2,
		"rpc_server_calls_finished_total calc _UNKNOWN tcp invalid_argument":     2,
		"rpc_server_calls_started_total _UNKNOWN _UNKNOWN tcp":                   1,
		"rpc_server_calls_finished_total _UNKNOWN _UNKNOWN tcp invalid_argument": 1,
		"rpc_server_calls_started_total calc _UNKNOWN http":                      1,
		"rpc_server_calls_finished_total calc _UNKNOWN http invalid_argument":    1,
		"rpc_server_calls_in_flight calc _UNKNOWN tcp":                           0,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if t.Failed() {
		t.Logf("server series: %v", got)
	}
}
