package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHello builds the example, runs it as its own process, and stops it
// with SIGINT as Ctrl-C would.
func TestHello(t *testing.T) {
	bin := build(t)
	cmd := exec.Command(bin, "--set", "hello.name=Ada", "--set", "hello.every=50ms")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "TITAN_LOGGER__FORMAT=json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan map[string]any, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				lines <- rec
			}
		}
	}()
	next := func(msg string) map[string]any {
		t.Helper()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case rec, ok := <-lines:
				if !ok {
					t.Fatalf("process ended before logging %q", msg)
				}
				if rec["msg"] == msg {
					return rec
				}
			case <-timeout:
				t.Fatalf("no %q log record within 15s", msg)
			}
		}
	}
	if rec := next("hello"); rec["name"] != "Ada" || rec["module"] != "hello" {
		t.Fatalf("start record = %v", rec)
	}
	next("hello again")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	next("goodbye")
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if !strings.Contains(cmd.ProcessState.String(), "exit status 0") {
		t.Fatalf("state: %v", cmd.ProcessState)
	}
}

// build builds the example into a temporary folder.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hello")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestLinksOnlyWhatItUses: an app that does not import the NATS package
// or a discovery backend beyond memory links no NATS, Redis, etcd or gRPC
// code, and an address of that scheme fails start-up with
// the import to add.
func TestLinksOnlyWhatItUses(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "nats-io/") || strings.HasSuffix(p, "/netron/nats") || strings.Contains(p, "redis/go-redis") ||
			strings.HasPrefix(p, "go.etcd.io/") || strings.HasPrefix(p, "google.golang.org/grpc") || strings.Contains(p, "/modules/discovery/") && !strings.HasSuffix(p, "/discovery/memory") {
			t.Errorf("examples/hello links %s", p)
		}
	}
	cmd := exec.Command(build(t), "--set", "netron.listen=nats://127.0.0.1:4222")
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	want := `netron.listen (from flag --set netron.listen): netron: address "nats://127.0.0.1:4222": transport: unknown scheme "nats": it is served by github.com/titanframework/titan/modules/netron/nats, which this program does not link; add import _ "github.com/titanframework/titan/modules/netron/nats"`
	if err == nil || !strings.Contains(stderr.String(), want) {
		t.Fatalf("exit %v, stderr:\n%s\nwant it to contain:\n%s", err, stderr.String(), want)
	}
	if n := strings.Count(stderr.String(), "unknown scheme"); n != 1 {
		t.Errorf("the error is printed %d times:\n%s", n, stderr.String())
	}
}
