package cli_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/cli"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	_ "github.com/titanframework/titan/modules/discovery/redis"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// titan services lists what a Redis registry holds, and titan call
// --registry calls a service found there by name.
func TestServicesAndCallByRegistry(t *testing.T) {
	url := testsrv.Redis(t)
	prefix := testsrv.RedisPrefix(t, url)
	app := titan.New(
		titan.WithConfig(config.Options{Sets: []string{"discovery.backend=redis", "discovery.url=" + url, "discovery.prefix=" + prefix,
			"discovery.deregisterDelay=0s", "netron.listen=tcp://127.0.0.1:0", "logger.level=error"}, Environ: []string{}, NoWatch: true}),
		titan.Service("calculator", "1.2.0", func() httpCalc { return httpCalc{} }))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())

	code, out, errOut := run(t, "services", "--registry", url, "--prefix", prefix)
	if code != 0 || !strings.Contains(out, "SERVICE") || !strings.Contains(out, "calculator@1.2.0") || !strings.Contains(out, "healthy") || !strings.Contains(out, "tcp://127.0.0.1:") {
		t.Fatalf("services: exit %d, out %q, err %q", code, out, errOut)
	}
	code, out, errOut = run(t, "services", "--registry", url, "--prefix", prefix, "calculator@^1", "--json")
	var ins []struct{ Service, Version, Health string }
	if code != 0 || json.Unmarshal([]byte(out), &ins) != nil || len(ins) != 1 || ins[0].Version != "1.2.0" {
		t.Fatalf("services --json: exit %d, out %q, err %q", code, out, errOut)
	}
	if code, out, errOut := run(t, "services", "--registry", url, "--prefix", prefix, "nobody"); code != 0 || out != "no instances\n" {
		t.Fatalf("services of an unknown name: exit %d, out %q, err %q", code, out, errOut)
	}

	if code, out, errOut := run(t, "call", "--registry", url, "--prefix", prefix, "calculator@^1", "add", "1", "2"); code != 0 || out != "3\n" {
		t.Fatalf("call --registry: exit %d, out %q, err %q", code, out, errOut)
	}
	code, _, errOut = run(t, "call", "--registry", url, "--prefix", prefix, "users@^1", "find")
	if want := "titan: not_found: no healthy instance of users@^1 is registered"; code != 1 || !strings.Contains(errOut, want) {
		t.Fatalf("call --registry of a service nobody serves: exit %d, err %q, want %q", code, errOut, want)
	}
	code, _, errOut = run(t, "services", "--registry", "redis://127.0.0.1:1/0")
	if code != 1 || !strings.Contains(errOut, "unavailable") || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Fatalf("an unreachable registry: exit %d, err %q", code, errOut)
	}
	if code, _, errOut := run(t, "services"); code != 2 || !strings.Contains(errOut, "--registry") {
		t.Fatalf("services without a registry: exit %d, err %q", code, errOut)
	}
	if code, _, errOut := run(t, "call", "calculator@^1", "add"); code != 2 || !strings.Contains(errOut, "want ADDRESS SERVICE METHOD") {
		t.Fatalf("call without an address or a registry: exit %d, err %q", code, errOut)
	}
}

// TestHelperProcess runs titan with the arguments after "--" when started
// by runProcess, so that what the process prints on its own stderr
// (os.Stderr, where libraries may write) is seen.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("TITAN_CLI_HELPER_PROCESS") != "1" {
		t.Skip("run by runProcess")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(cli.Main(args, os.Stdout, os.Stderr))
}

// runProcess runs titan args in a process of its own and returns its exit
// code and stderr.
func runProcess(t *testing.T, args ...string) (code int, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "TITAN_CLI_HELPER_PROCESS=1")
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), errb.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, errb.String()
}

// TestRegistryUnreachableIsOneMessage: an unreachable registry is one
// message, "titan: unavailable: --registry URL: ...", not preceded by the
// Redis client's own log lines.
func TestRegistryUnreachableIsOneMessage(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "redis://" + l.Addr().String()
	l.Close()
	for _, args := range [][]string{
		{"services", "--registry", dead},
		{"call", "--registry", dead, "calculator@1.0.0", "add", "1", "2"},
	} {
		code, stderr := runProcess(t, args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "titan: unavailable: --registry "+dead+": ") {
			t.Errorf("titan %s: exit %d, stderr (%d lines):\n%s", strings.Join(args, " "), code, len(lines), stderr)
		}
	}
}

// TestRegistryBadURLIsUsageError: a --registry that is no URL of a
// registry titan links is bad usage: exit 2 and a message that names
// --registry (and, for an unknown scheme, the ones there are), without an
// error code (nothing was reached) and without "discovery.backend", a
// configuration key the user did not write.
func TestRegistryBadURLIsUsageError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"services", "--registry", "127.0.0.1:6379"}, `titan: --registry "127.0.0.1:6379": want a URL such as redis://127.0.0.1:6379/0`},
		{[]string{"services", "--registry", "bogus://127.0.0.1:6379"}, `titan: --registry "bogus://127.0.0.1:6379": unknown registry "bogus" (titan knows consul://host:8500, etcd://host:2379, nats://host:4222, redis://host:6379/0)`},
		// A Consul agent named as the apps' discovery.url names it.
		{[]string{"services", "--registry", "http://127.0.0.1:8500"}, `titan: --registry "http://127.0.0.1:8500": unknown registry "http" (titan knows consul://host:8500, etcd://host:2379, nats://host:4222, redis://host:6379/0); for the Consul agent at http://127.0.0.1:8500, write consul://127.0.0.1:8500`},
		{[]string{"services", "--registry", "https://127.0.0.1:8501"}, `titan: --registry "https://127.0.0.1:8501": unknown registry "https" (titan knows consul://host:8500, etcd://host:2379, nats://host:4222, redis://host:6379/0); --registry reaches a Consul agent over plain http only, as consul://host:8500`},
		{[]string{"call", "--registry", "bogus://127.0.0.1:6379", "calculator@1.0.0", "add", "1", "2"}, `titan: --registry "bogus://127.0.0.1:6379": unknown registry "bogus"`},
		// A URL its backend cannot read names --registry, not the apps'
		// discovery.url, and is no unavailable registry.
		{[]string{"services", "--registry", "etcd://"}, `titan: --registry "etcd://": want etcd://host:port[,host:port]`},
		{[]string{"services", "--registry", "redis://127.0.0.1:6379/abc"}, `titan: --registry "redis://127.0.0.1:6379/abc": redis: invalid database number: "abc"`},
	} {
		code, _, stderr := run(t, tt.args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != 2 || !strings.HasPrefix(first, tt.want) || strings.Contains(stderr, "discovery.") {
			t.Errorf("titan %s: exit %d, stderr:\n%s\nwant exit 2 and %q", strings.Join(tt.args, " "), code, stderr, tt.want)
		}
	}
}

// TestRegistryTimeout: a --registry that accepts the connection but never
// answers makes titan give up after --timeout, as call and inspect do with
// a silent ADDRESS, even for a backend whose client bounds its connecting
// with a timeout of its own (NATS: 5s).
func TestRegistryTimeout(t *testing.T) {
	silent := "nats://" + strings.TrimPrefix(transporttest.SilentAddr(t), "tcp://")
	for _, args := range [][]string{
		{"services", "--registry", silent, "--timeout", "300ms"},
		{"call", "--registry", silent, "calculator@1.0.0", "add", "1", "2", "--timeout", "300ms"},
	} {
		start := time.Now()
		code, _, stderr := run(t, args...)
		took := time.Since(start)
		if want := "titan: deadline_exceeded: no answer within 300ms (--timeout)"; code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("titan %s: exit %d, stderr %q; want 1 saying %q", strings.Join(args, " "), code, stderr, want)
		}
		if took > 3*time.Second {
			t.Errorf("titan %s took %v; want about the 300ms of --timeout", strings.Join(args, " "), took)
		}
	}
}
