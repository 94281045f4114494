package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/metrics"
	"github.com/titanframework/titan/modules/netron"
)

// A call or stream whose chain panics inside the interceptor (in an
// interceptor nearer the method: the engine recovers a served call's
// panic, answering internal; a call made panics in its caller) has
// finished: it is counted finished with code internal, and is no longer
// in flight.
func TestCallPanickedInChainIsFinished(t *testing.T) {
	reg := prometheus.NewRegistry()
	ic, err := metrics.NewInterceptor(reg)
	if err != nil {
		t.Fatal(err)
	}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(ic, testsrv.Panicking{}))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calc", "1.0.0", Calc{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.Invoke(ctx, &netron.Invocation{Service: "calc@1.0.0", Method: "add", Transport: "http"}); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("Invoke(add) = %v, want internal", err)
	}
	if _, err := n.InvokeStream(ctx, &netron.Invocation{Service: "calc@1.0.0", Method: "count", Transport: "http"}); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("InvokeStream(count) = %v, want internal", err)
	}
	addr, err := n.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := n.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	panicked := func(what string, f func()) {
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", what)
			}
		}()
		f()
	}
	panicked("Call(add)", func() { _, _ = p.Call(ctx, "calc@1.0.0", "add", 1, 2) })
	panicked("OpenStream(count)", func() { _, _ = p.OpenStream(ctx, "calc@1.0.0", "count", 1) })

	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]map[string]float64{} // name -> "method [code] " -> value
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == metrics.LabelMethod || lp.GetName() == metrics.LabelCode {
					key += lp.GetValue() + " "
				}
			}
			if values[f.GetName()] == nil {
				values[f.GetName()] = map[string]float64{}
			}
			values[f.GetName()][key] += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	for _, side := range []string{"server", "client"} {
		for _, method := range []string{"add", "count"} {
			if got := values["rpc_"+side+"_calls_in_flight"][method+" "]; got != 0 {
				t.Errorf("rpc_%s_calls_in_flight{%s} = %v after the call ended, want 0", side, method, got)
			}
			if got := values["rpc_"+side+"_calls_finished_total"][method+" internal "]; got != 1 {
				t.Errorf("rpc_%s_calls_finished_total{%s, internal} = %v, want 1 (all: %v)", side, method, got, values["rpc_"+side+"_calls_finished_total"])
			}
		}
	}
}
