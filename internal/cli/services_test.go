package cli_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	_ "github.com/titanframework/titan/modules/discovery/redis"
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
