package metrics_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/metrics"
	"github.com/titanframework/titan/modules/netron"
)

// A stream whose inner chain returns neither an iterator nor an error
// reaches the Interceptor as the engine's refusal of that interceptor's
// bug (internal, logged as such), not as a nil iterator that the
// Interceptor's own would panic ranging over; it is counted finished
// internal.
func TestNilStreamFromInnerChain(t *testing.T) {
	reg := prometheus.NewRegistry()
	ic, err := metrics.NewInterceptor(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logs testsrv.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	n, err := netron.New(netron.Config{}, log, netron.WithInterceptors(ic, testsrv.NilStreams{}))
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
	st, err := p.OpenStream(ctx, "calc@1.0.0", "count", 3)
	for err == nil {
		_, err = st.Next()
	}
	if netron.CodeOf(err) != netron.CodeInternal {
		t.Errorf("stream count = %v, want internal", err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "rpc_server_calls_finished_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == metrics.LabelCode && lp.GetValue() != "internal" {
					t.Errorf("the stream finished %s, want internal", lp.GetValue())
				}
			}
		}
	}
	out := logs.String()
	if strings.Contains(out, "panicked") || !strings.Contains(out, "returned neither an iterator nor an error") {
		t.Fatalf("log:\n%s\nwant the interceptor's nil iterator named, no panic", out)
	}
}
