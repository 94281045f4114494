package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
)

func TestMain(m *testing.M) { os.Exit(testsrv.RunWithProgram(m)) }

// TestHello builds the example, runs it as its own process, and stops it
// with SIGINT as Ctrl-C would.
func TestHello(t *testing.T) {
	t.Parallel()
	p := testsrv.StartProgram(t, "--set", "hello.name=Ada", "--set", "hello.every=50ms")
	if rec := p.Await("hello"); rec["name"] != "Ada" || rec["module"] != "hello" {
		t.Fatalf("start record = %v", rec)
	}
	p.Await("hello again")
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	p.Await("goodbye")
	for range p.Records {
	}
	if err := p.Cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if !strings.Contains(p.Cmd.ProcessState.String(), "exit status 0") {
		t.Fatalf("state: %v", p.Cmd.ProcessState)
	}
}

// TestLinksOnlyWhatItUses: an app that does not import the NATS package
// or a discovery backend beyond memory links no NATS, Redis, etcd or gRPC
// code, and an address of that scheme fails start-up with
// the import to add.
func TestLinksOnlyWhatItUses(t *testing.T) {
	t.Parallel()
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
	cmd := testsrv.ProgramCommand(t, "--set", "netron.listen=nats://127.0.0.1:4222")
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
