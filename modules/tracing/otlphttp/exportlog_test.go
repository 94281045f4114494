package otlphttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
)

// handled records what reaches OpenTelemetry's error handler, which by
// default prints on stderr.
type handled struct {
	mu   sync.Mutex
	errs []error
}

func (h *handled) Handle(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs = append(h.errs, err)
}

// TestFailedExportsGoToTheAppLog: a collector that refuses every batch is
// reported in the app's log, once for a burst of failures, and nothing
// reaches OpenTelemetry's error handler (which prints on stderr, outside
// the app's logger and its level). Before, each failed batch printed a
// "traces export: ..." line on stderr and the app's log said nothing.
func TestFailedExportsGoToTheAppLog(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "refused", http.StatusBadRequest) // not retried
	}))
	defer srv.Close()
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "20") // ms: the batches go out on their own
	h := &handled{}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(h)
	defer otel.SetErrorHandler(prev)

	logs := &testsrv.LogBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app, n := startTracedApp(t, ctx, srv.URL, []string{"logger.level=warn", "logger.format=json"},
		titan.WithLogger(logger.WithWriter(logs)))
	self, err := n.Dial(ctx, n.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := netron.CallUnary[string](ctx, self, "echo@1.0.0", "echo", "hi"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // a batch goes out, and fails
	}
	self.Close()
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(logs.String(), "could not send spans"); got != 1 {
		t.Errorf("%d records of failed exports in the app's log, want 1:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), `"exporter":"otlphttp"`) {
		t.Errorf("the record does not name the exporter:\n%s", logs.String())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) > 0 {
		t.Errorf("%d errors reached OpenTelemetry's error handler (stderr), the first: %v", len(h.errs), h.errs[0])
	}
}
