package metrics_test

import (
	"bytes"
	"context"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan/modules/metrics"
	"github.com/titanframework/titan/modules/netron"
)

// nilStreams is an interceptor with a bug: the streams it serves return
// neither an iterator nor an error.
type nilStreams struct{ netron.UnaryInterceptorFunc }

func (nilStreams) WrapStreamingHandler(netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(context.Context, *netron.Call) (iter.Seq2[any, error], error) { return nil, nil }
}

// lockedBuffer is a log destination for several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A stream whose inner chain returns neither an iterator nor an error
// goes through the Interceptor as it came: the engine refuses it as the
// interceptor's bug (internal, logged as such), not as a panic of the
// Interceptor's own iterator ranging over nil; it is counted finished
// internal.
func TestNilStreamFromInnerChain(t *testing.T) {
	reg := prometheus.NewRegistry()
	ic, err := metrics.NewInterceptor(reg)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	n, err := netron.New(netron.Config{}, log, netron.WithInterceptors(ic, nilStreams{func(next netron.UnaryFunc) netron.UnaryFunc { return next }}))
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
