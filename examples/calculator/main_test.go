package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// startCalculator builds the example and runs it as its own process on a
// free TCP port and a Unix socket; it returns the addresses it logged.
func startCalculator(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "calculator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sock := "unix://" + filepath.Join(dir, "calc.sock")
	cmd := exec.Command(bin, "--set", "calculator.listen=tcp://127.0.0.1:0,"+sock+",ws://127.0.0.1:0,http://127.0.0.1:0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TITAN_LOGGER__FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("calculator exit: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("calculator did not stop within 10s of SIGTERM")
		}
	})
	addrs := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "listening" {
				addrs <- rec["addr"].(string)
			}
		}
		exited <- cmd.Wait()
	}()
	var got []string
	for len(got) < 4 {
		select {
		case a := <-addrs:
			got = append(got, a)
		case <-time.After(30 * time.Second):
			t.Fatalf("calculator did not report its addresses (got %v)", got)
		}
	}
	return got
}

func TestCalculatorEndToEnd(t *testing.T) {
	addrs := startCalculator(t)
	for _, addr := range addrs {
		if strings.HasPrefix(addr, "http://") {
			t.Run("http", func(t *testing.T) { testHTTP(t, addr) })
			continue
		}
		t.Run(strings.SplitN(addr, ":", 2)[0], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p, err := netron.Dial(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			for _, tc := range []struct {
				method string
				a, b   float64
				want   float64
			}{{"add", 1, 2, 3}, {"sub", 5, 2, 3}, {"mul", 4, 2.5, 10}, {"div", 1, 4, 0.25}} {
				got, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", tc.method, tc.a, tc.b)
				if err != nil || got != tc.want {
					t.Errorf("%s(%v, %v) = %v, %v; want %v", tc.method, tc.a, tc.b, got, err, tc.want)
				}
			}
			_, err = p.Call(ctx, "calculator@1.0.0", "div", 1, 0)
			if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "division by zero") {
				t.Errorf("div by zero: %v", err)
			}
			n := 0
			for v, err := range netron.CallStream[int](ctx, p, "calculator@^1", "count", 5) {
				if err != nil || v != n {
					t.Fatalf("count item %d = %v, %v", n, v, err)
				}
				n++
			}
			if n != 5 {
				t.Errorf("count 5 gave %d items", n)
			}
		})
	}
}

// testHTTP calls the calculator with curl's forms: the JSON route and
// /netron/invoke, and reads /openapi.json.
func testHTTP(t *testing.T, base string) {
	for path, body := range map[string]string{
		"/api/calculator/add": "[1,2]",
		"/netron/invoke":      `{"id":"1","version":"1.0","timestamp":0,"service":"calculator@1.0.0","method":"add","input":[1,2]}`,
	} {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST %s: %d, %v", path, resp.StatusCode, err)
		}
		if m, ok := v.(map[string]any); ok {
			v = m["data"]
		}
		if v != 3.0 {
			t.Errorf("POST %s answered %v, want 3", path, v)
		}
	}
	resp, err := http.Post(base+"/api/calculator/div", "application/json", strings.NewReader("[1,0]"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("div by zero: status %d, want 400", resp.StatusCode)
	}
	resp, err = http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json: %v, version %q", err, doc.OpenAPI)
	}
	if _, ok := doc.Paths["/api/calculator/add"]; !ok {
		t.Errorf("openapi.json has no /api/calculator/add: %v", doc.Paths)
	}
}
