package main_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestDevUIFlag: like every example, hello takes --set devui.enabled=true
// and serves the development UI on its http:// listener.
func TestDevUIFlag(t *testing.T) {
	cmd := exec.Command(build(t), "--set", "devui.enabled=true", "--set", "netron.listen=http://127.0.0.1:0")
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
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "serving the development UI" {
				urls <- rec["url"].(string)
			}
		}
		close(urls)
	}()
	var page string
	select {
	case page = <-urls:
	case <-time.After(15 * time.Second):
		t.Fatal("hello did not log where it serves the development UI within 15s")
	}
	if page == "" {
		t.Fatal("hello ended without serving the development UI")
	}
	res, err := http.Get(page + "api/services")
	if err != nil {
		t.Fatal(err)
	}
	var services []any
	err = json.NewDecoder(res.Body).Decode(&services)
	res.Body.Close()
	if res.StatusCode != 200 || err != nil || services == nil {
		t.Errorf("GET %sapi/services: %d %v %v", page, res.StatusCode, services, err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range urls {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v", err)
	}
}
