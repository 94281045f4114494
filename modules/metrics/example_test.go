package metrics_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan/modules/metrics"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// An Interceptor on a Netron made without the titan app: its series are
// in the registry it was given.
func ExampleNewInterceptor() {
	reg := prometheus.NewRegistry()
	ic, err := metrics.NewInterceptor(reg)
	if err != nil {
		panic(err)
	}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(ic))
	if err != nil {
		panic(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calc", "1.0.0", Calc{}); err != nil {
		panic(err)
	}
	one, _ := protocol.AppendValue(nil, 1.0)
	zero, _ := protocol.AppendValue(nil, 0.0)
	for _, b := range []protocol.RawValue{one, one, zero} {
		_, _ = n.Invoke(context.Background(), &netron.Invocation{Service: "calc@1.0.0", Method: "div", Args: []protocol.RawValue{one, b}, Transport: "http"})
	}
	fams, _ := reg.Gather()
	for _, f := range fams {
		if f.GetName() != "rpc_server_calls_finished_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "rpc_response_status_code" {
					fmt.Println(l.GetValue(), m.GetCounter().GetValue())
				}
			}
		}
	}
	// Output:
	// invalid_argument 1
	// ok 2
}
