package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestClusterFindsItself runs three members as their own processes, on a
// free port for the embedded server: each one's calls reach all three
// members, and each stops cleanly on SIGINT.
func TestClusterFindsItself(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cluster")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	names := []string{"a", "b", "c"}
	type member struct {
		cmd  *exec.Cmd
		mu   sync.Mutex
		seen map[string]bool
		done chan struct{}
	}
	var members []*member
	for _, name := range names {
		cmd := exec.Command(bin, "--set", "cluster.name="+name, "--set", "cluster.every=100ms",
			"--set", fmt.Sprintf("discovery.url=nats-embedded://127.0.0.1:%d", port),
			"--set", "discovery.heartbeat=200ms", "--set", "discovery.ttl=1s", "--set", "discovery.deregisterDelay=50ms")
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
		m := &member{cmd: cmd, seen: map[string]bool{}, done: make(chan struct{})}
		members = append(members, m)
		go func() {
			defer close(m.done)
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				var rec map[string]any
				if json.Unmarshal(sc.Bytes(), &rec) != nil || rec["msg"] != "greeted" {
					continue
				}
				answer, _ := rec["answer"].(string)
				if _, from, ok := strings.Cut(answer, ", from "); ok {
					m.mu.Lock()
					m.seen[from] = true
					m.mu.Unlock()
				}
			}
		}()
		time.Sleep(200 * time.Millisecond) // the first hosts the server
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, m := range members {
		for {
			m.mu.Lock()
			n := len(m.seen)
			m.mu.Unlock()
			if n == len(names) {
				break
			}
			if time.Now().After(deadline) {
				m.mu.Lock()
				t.Fatalf("after 20s a member heard from %v, want all of %v", m.seen, names)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, m := range members {
		if err := m.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range members {
		select {
		case <-m.done:
		case <-time.After(20 * time.Second):
			t.Fatalf("member %s did not stop within 20s of SIGINT", names[i])
		}
		if err := m.cmd.Wait(); err != nil {
			t.Errorf("member %s: %v", names[i], err)
		}
	}
}
