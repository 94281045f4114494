package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
)

func TestMain(m *testing.M) {
	code := testsrv.RunWithProgram(m)
	testsrv.CloseBrowser() // TestDevUIInBrowser's
	os.Exit(code)
}

// command returns the calculator with args and env, run in a fresh
// directory (no titan.yaml) and logging JSON.
func command(t *testing.T, env []string, args ...string) *exec.Cmd {
	cmd := testsrv.ProgramCommand(t, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(cmd.Env, "TITAN_LOGGER__FORMAT=json"), env...)
	return cmd
}

// startCalculator runs the calculator as its own process with env and args
// and returns the n addresses it reports listening on.
func startCalculator(t *testing.T, n int, env []string, args ...string) []string {
	t.Helper()
	return runCalculator(t, n, env, args...).addrs
}

// calculator is a calculator process started by runCalculator.
type calculator struct {
	addrs  []string // the addresses it reported listening on
	cmd    *exec.Cmd
	exited chan error

	signal sync.Once
	wait   sync.Once
	err    error // of the exit, once waited for
}

// terminate sends SIGTERM, once.
func (c *calculator) terminate() {
	c.signal.Do(func() { _ = c.cmd.Process.Signal(syscall.SIGTERM) })
}

// exit waits for the process to end (killing it after 10s) and returns
// its exit error.
func (c *calculator) exit() error {
	c.wait.Do(func() {
		select {
		case c.err = <-c.exited:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			c.err = errors.New("calculator did not stop within 10s of SIGTERM")
		}
	})
	return c.err
}

// runCalculator runs the calculator as its own process with env and args,
// waits until it reports n addresses (the first n, when it listens on
// more), and stops it (SIGTERM, then an exit
// that must be clean) when the test ends.
func runCalculator(t *testing.T, n int, env []string, args ...string) *calculator {
	t.Helper()
	cmd := command(t, env, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &calculator{cmd: cmd, exited: make(chan error, 1)}
	t.Cleanup(func() {
		c.terminate()
		if err := c.exit(); err != nil {
			t.Errorf("calculator exit: %v", err)
		}
	})
	addrs := make(chan string, n)
	var lines []string // what it logged until it reported n addresses
	go func() {
		defer close(addrs)
		// It reads standard error to its end, whatever the count of
		// addresses, so that the process never blocks writing its logs
		// and its exit is always waited for.
		sent := 0
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if sent == n {
				continue
			}
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "listening" {
				addrs <- rec["addr"].(string)
				sent++
			} else if len(lines) < 20 {
				lines = append(lines, sc.Text())
			}
		}
		c.exited <- cmd.Wait()
	}()
	for len(c.addrs) < n {
		select {
		case a, ok := <-addrs:
			if !ok {
				t.Fatalf("calculator ended after reporting %v; it logged:\n%s", c.addrs, strings.Join(lines, "\n"))
			}
			c.addrs = append(c.addrs, a)
		case <-time.After(30 * time.Second):
			t.Fatalf("calculator did not report its addresses (got %v)", c.addrs)
		}
	}
	return c
}

// TestListenConfiguration: the calculator listens where netron.listen
// says, and calculator.listen, its older name, replaces it from a flag or
// the environment.
func TestListenConfiguration(t *testing.T) {
	t.Parallel()
	sock := func(t *testing.T) string {
		dir, err := os.MkdirTemp("", "calc")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		return "unix://" + filepath.Join(dir, "calc.sock")
	}
	tests := []struct {
		name string
		env  func(addrs string) []string
		args func(addrs string) []string
	}{
		{"--set netron.listen", nil, func(a string) []string { return []string{"--set", "netron.listen=" + a} }},
		{"--set calculator.listen", nil, func(a string) []string { return []string{"--set", "calculator.listen=" + a} }},
		{"TITAN_CALCULATOR__LISTEN", func(a string) []string { return []string{"TITAN_CALCULATOR__LISTEN=" + a} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			listen := "tcp://127.0.0.1:0," + sock(t) + ",ws://127.0.0.1:0,http://127.0.0.1:0"
			var env, args []string
			if tt.env != nil {
				env = tt.env(listen)
			}
			if tt.args != nil {
				args = tt.args(listen)
			}
			addrs := startCalculator(t, 4, env, args...)
			for _, a := range addrs {
				if strings.HasSuffix(a, ":7070") || strings.HasSuffix(a, ":7080") {
					t.Errorf("listening on a default address, %s, besides %v", a, addrs)
				}
			}
			callEach(t, addrs)
		})
	}
}

// TestDefaultAddresses: the calculator's defaults are netron.listen's, as
// --print-config shows (the test does not bind the fixed ports).
func TestDefaultAddresses(t *testing.T) {
	t.Parallel()
	out, err := command(t, nil, "--print-config").Output()
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Netron struct {
			Listen []string `yaml:"listen"`
		} `yaml:"netron"`
	}
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	listen := cfg.Netron.Listen
	sock := "unix://" + filepath.ToSlash(filepath.Join(os.TempDir(), "titan-calculator.sock"))
	want := []string{"tcp://127.0.0.1:7070", sock, "ws://127.0.0.1:7080", "http://127.0.0.1:7080"}
	if !slices.Equal(listen, want) {
		t.Fatalf("netron.listen = %v, want %v; config:\n%s", listen, want, out)
	}
}

// TestBadConfigPrintsOneLine: an invalid value stops the calculator with
// one line naming the key, the reason and the flag it came from.
func TestBadConfigPrintsOneLine(t *testing.T) {
	t.Parallel()
	cmd := command(t, nil, "--set", "netron.maxDepth=3")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want code 1", err)
	}
	want := "titan: start-up failed: config: invalid value: netron.maxDepth: want at least 8, got 3 (from flag --set netron.maxDepth)\n"
	if stderr.String() != want {
		t.Fatalf("stderr (%d lines):\n%s\nwant:\n%s", strings.Count(stderr.String(), "\n"), stderr.String(), want)
	}
}

// callEach calls the calculator at each address through netron.Dial,
// http:// included: add, sub, mul, div and count, and, where the transport
// carries events, receives the calculator.computed event of each
// computation; at an http:// address also with curl's forms (the JSON
// routes, /netron/invoke).
func callEach(t *testing.T, addrs []string) {
	for _, addr := range addrs {
		if strings.HasPrefix(addr, "http://") {
			t.Run("http-routes", func(t *testing.T) { testHTTP(t, addr) })
		}
		t.Run(strings.SplitN(addr, ":", 2)[0], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p, err := netron.Dial(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			// The calculator.computed events of the calls, over the
			// transports that carry events (http:// does not).
			events := make(chan computed, 8)
			if !strings.HasPrefix(addr, "http://") {
				unsubscribe, err := p.Subscribe(ctx, "calculator.computed", func(_ context.Context, e netron.Event) {
					var c computed
					if err := e.Decode(&c); err != nil {
						t.Errorf("calculator.computed %v: %v", e.Payload, err)
					}
					events <- c
				})
				if err != nil {
					t.Fatal(err)
				}
				defer unsubscribe()
			}
			calls := []struct {
				method string
				a, b   float64
				want   float64
			}{{"add", 1, 2, 3}, {"sub", 5, 2, 3}, {"mul", 4, 2.5, 10}, {"div", 1, 4, 0.25}}
			for _, tc := range calls {
				got, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", tc.method, tc.a, tc.b)
				if err != nil || got != tc.want {
					t.Errorf("%s(%v, %v) = %v, %v; want %v", tc.method, tc.a, tc.b, got, err, tc.want)
				}
			}
			if !strings.HasPrefix(addr, "http://") {
				for _, tc := range calls {
					want := computed{Op: tc.method, A: tc.a, B: tc.b, Result: tc.want}
					select {
					case got := <-events:
						if got != want {
							t.Errorf("calculator.computed = %+v, want %+v", got, want)
						}
					case <-ctx.Done():
						t.Fatalf("no calculator.computed event for %s", tc.method)
					}
				}
			}
			_, err = p.Call(ctx, "calculator@1.0.0", "div", 1, 0)
			if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "division by zero") {
				t.Errorf("div by zero: %v", err)
			}
			_, err = p.Call(ctx, "calculator@1.0.0", "add", 1, "x")
			if want := "calculator@1.0.0.add: argument 2 (b): want a number, got a string"; netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), want) {
				t.Errorf("add(1, \"x\") = %v; want invalid_argument %q", err, want)
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

// computed is the payload of a calculator.computed event.
type computed struct {
	Op     string  `json:"op"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	Result float64 `json:"result"`
}

// testHTTP calls the calculator with curl's forms: the JSON route and
// /netron/invoke, and reads /openapi.json.
func testHTTP(t *testing.T, base string) {
	for path, body := range map[string]string{
		"/api/calculator/add": "[1,2]",
		"/netron/invoke":      `{"id":"1","version":"1.0","timestamp":0,"service":"calculator@1.0.0","method":"add","input":[1,2]}`,
	} {
		resp, err := testsrv.HTTPClient.Post(base+path, "application/json", strings.NewReader(body))
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
	resp, err := testsrv.HTTPClient.Post(base+"/api/calculator/div", "application/json", strings.NewReader("[1,0]"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("div by zero: status %d, want 400", resp.StatusCode)
	}
	resp, err = testsrv.HTTPClient.Get(base + "/openapi.json")
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
