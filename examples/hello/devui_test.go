package main_test

import (
	"encoding/json"
	"syscall"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
)

// TestDevUIFlag: like every example, hello takes --set devui.enabled=true
// and serves the development UI on its http:// listener.
func TestDevUIFlag(t *testing.T) {
	t.Parallel()
	p := testsrv.StartProgram(t, "--set", "devui.enabled=true", "--set", "netron.listen=http://127.0.0.1:0")
	page, _ := p.Await("serving the development UI")["url"].(string)
	if page == "" {
		t.Fatal("hello logged that it serves the development UI, without the page's url")
	}
	res, err := testsrv.HTTPClient.Get(page + "api/services")
	if err != nil {
		t.Fatal(err)
	}
	var services []any
	err = json.NewDecoder(res.Body).Decode(&services)
	res.Body.Close()
	if res.StatusCode != 200 || err != nil || services == nil {
		t.Errorf("GET %sapi/services: %d %v %v", page, res.StatusCode, services, err)
	}
	if err := p.Cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range p.Records {
	}
	if err := p.Cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
}
