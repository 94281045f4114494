package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
)

// TestAdminEndpoints: with --set metrics.listen=ADDR the calculator serves
// /metrics, /healthz and /readyz at ADDR; the scrape counts the calls made
// over tcp, ws and http by method, transport and code.
func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	admin := fmt.Sprintf("127.0.0.1:%d", testsrv.FreePort(t))
	addrs := startCalculator(t, 3, nil, "--set", "netron.listen=tcp://127.0.0.1:0,ws://127.0.0.1:0,http://127.0.0.1:0",
		"--set", "metrics.listen="+admin)
	awaitReady(t, admin)
	for _, path := range []string{"/healthz", "/readyz"} {
		code, status, checks := report(t, "http://"+admin+path)
		if code != 200 || status != "healthy" {
			t.Fatalf("GET %s = %d %s: %v", path, code, status, checks)
		}
		if _, ok := checks["transports"]; ok != (path == "/readyz") {
			t.Errorf("GET %s: transports check present = %v", path, ok)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adds := map[string]int{"tcp": 2, "ws": 1, "http": 3}
	for _, addr := range addrs {
		scheme, _, _ := strings.Cut(addr, ":")
		p, err := netron.Dial(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		for range adds[scheme] {
			if _, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil {
				t.Fatalf("%s: %v", scheme, err)
			}
		}
		if _, err := p.Call(ctx, "calculator@1.0.0", "div", 1, 0); netron.CodeOf(err) != netron.CodeInvalidArgument {
			t.Fatalf("%s: div(1, 0) = %v", scheme, err)
		}
		p.Close()
	}

	fams := testsrv.Scrape(t, "http://"+admin+"/metrics")
	for scheme, n := range adds {
		ok := map[string]string{"rpc_service": "calculator", "rpc_method": "add", "transport": scheme, "rpc_response_status_code": "ok"}
		if got := sum(fams, "rpc_server_calls_finished_total", ok); got != float64(n) {
			t.Errorf("%s: %v adds finished, want %d", scheme, got, n)
		}
		if got := sum(fams, "rpc_server_call_duration_seconds", ok); got != float64(n) {
			t.Errorf("%s: %v adds timed, want %d", scheme, got, n)
		}
		bad := map[string]string{"rpc_method": "div", "transport": scheme, "rpc_response_status_code": "invalid_argument"}
		if got := sum(fams, "rpc_server_calls_finished_total", bad); got != 1 {
			t.Errorf("%s: %v divisions by zero, want 1", scheme, got)
		}
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime series")
	}
}

// TestReadyzFailsFirstOnSIGTERM: on SIGTERM, /readyz answers 503 for
// metrics.drainDelay while the tcp listener still serves, then the
// calculator exits cleanly.
func TestReadyzFailsFirstOnSIGTERM(t *testing.T) {
	t.Parallel()
	admin := fmt.Sprintf("127.0.0.1:%d", testsrv.FreePort(t))
	c := runCalculator(t, 1, nil, "--set", "netron.listen=tcp://127.0.0.1:0",
		"--set", "metrics.listen="+admin, "--set", "metrics.drainDelay=1s")
	awaitReady(t, admin)
	c.terminate()
	deadline := time.Now().Add(time.Second)
	for {
		code, _, checks := report(t, "http://"+admin+"/readyz")
		if code == 503 {
			if _, ok := checks["draining"]; !ok {
				t.Fatalf("503 without the draining check: %v", checks)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not fail within 1s (metrics.drainDelay) of SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, err := netron.Dial(ctx, c.addrs[0])
	if err != nil {
		t.Fatalf("the tcp listener is closed while /readyz fails: %v", err)
	}
	got, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2)
	p.Close()
	if err != nil || got != 3 {
		t.Fatalf("add while draining = %v, %v", got, err)
	}
	if err := c.exit(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

// awaitReady waits for /readyz at admin to answer 200 healthy. The app is
// ready once every start hook has run, which can be a moment after its
// listeners logged their addresses (the metrics module's hook, which
// starts the transports check, runs after the Netron's); until its first
// registration with discovery, a check that is not critical, it answers
// 200 degraded.
func awaitReady(t *testing.T, admin string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		code, status, checks := report(t, "http://"+admin+"/readyz")
		if code == 200 && status == "healthy" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %s 5s after the app listened: %v", code, status, checks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// report reads a health endpoint: the status code, the status and the
// checks. It fails the test when the endpoint does not answer within 10s.
func report(t *testing.T, url string) (int, string, map[string]any) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatalf("GET %s: no answer: %v", url, err)
	}
	defer resp.Body.Close()
	var rep struct {
		Status string         `json:"status"`
		Checks map[string]any `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, rep.Status, rep.Checks
}

// sum is testsrv.Sample's sum.
func sum(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	v, _ := testsrv.Sample(fams, name, labels)
	return v
}
