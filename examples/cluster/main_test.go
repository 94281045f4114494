package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
)

func TestMain(m *testing.M) { os.Exit(testsrv.RunWithProgram(m)) }

// TestClusterFindsItself runs three members as their own processes, on a
// free port for the embedded server: each one's calls reach all three
// members, and each stops cleanly on SIGINT.
func TestClusterFindsItself(t *testing.T) {
	t.Parallel()
	bin := testsrv.BuildProgram(t)
	port := testsrv.FreePort(t)
	names := []string{"a", "b", "c"}
	type member struct {
		prog *testsrv.Program
		cmd  *exec.Cmd
		mu   sync.Mutex
		seen map[string]bool
		logs []string // warnings and errors, shown when the member fails
		done chan struct{}
	}
	var members []*member
	for _, name := range names {
		p := testsrv.StartProgram(t, bin, "--set", "cluster.name="+name, "--set", "cluster.every=100ms",
			"--set", fmt.Sprintf("nats.embedded.port=%d", port),
			"--set", "discovery.heartbeat=200ms", "--set", "discovery.ttl=1s", "--set", "discovery.deregisterDelay=50ms")
		m := &member{prog: p, cmd: p.Cmd, seen: map[string]bool{}, done: make(chan struct{})}
		members = append(members, m)
		go func() {
			defer close(m.done)
			for rec := range p.Records {
				if lvl, _ := rec["level"].(string); lvl == "WARN" || lvl == "ERROR" {
					m.mu.Lock()
					m.logs = append(m.logs, fmt.Sprint(rec))
					m.mu.Unlock()
				}
				if rec["msg"] != "greeted" {
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
			t.Errorf("member %s: %v; it wrote:\n%s\nits warnings and errors:\n%s", names[i], err, m.prog.Text(), strings.Join(m.logs, "\n"))
		}
	}
}
