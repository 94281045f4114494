package main_test

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
)

// TestDevUIFlag: like every example, a cluster member takes
// --set devui.enabled=true; it then serves the development UI on the
// http:// listeners netron.listen gives it (its default, a tcp:// port,
// has none), with its greeter service.
func TestDevUIFlag(t *testing.T) {
	t.Parallel()
	p := testsrv.StartProgram(t, "--set", "devui.enabled=true",
		"--set", "netron.listen=tcp://127.0.0.1:0,http://127.0.0.1:0",
		"--set", fmt.Sprintf("nats.embedded.port=%d", testsrv.FreePort(t)), "--set", "discovery.deregisterDelay=0s")
	page, _ := p.Await("serving the development UI")["url"].(string)
	if page == "" {
		t.Fatal("the member logged that it serves the development UI, without the page's url")
	}
	res, err := testsrv.HTTPClient.Get(page + "api/services")
	if err != nil {
		t.Fatal(err)
	}
	var services []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	err = json.NewDecoder(res.Body).Decode(&services)
	res.Body.Close()
	if res.StatusCode != 200 || err != nil {
		t.Fatalf("GET %sapi/services: %d %v", page, res.StatusCode, err)
	}
	if len(services) != 1 || services[0].Name != "greeter" || services[0].Version != "1.0.0" {
		t.Errorf("GET %sapi/services = %+v, want greeter 1.0.0", page, services)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range p.Records {
	}
	if err := p.Cmd.Wait(); err != nil {
		t.Errorf("exit: %v; it wrote:\n%s", err, p.Text())
	}
}
