package main_test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
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
	port := testsrv.FreePort(t)
	names := []string{"a", "b", "c"}
	type member struct {
		prog    *testsrv.Program
		cmd     *exec.Cmd
		mu      sync.Mutex
		seen    map[string]bool
		logs    []string      // warnings and errors, shown when the member fails
		hosting chan struct{} // closed when it hosts the embedded server
		done    chan struct{}
	}
	heard := func(m *member) []string {
		m.mu.Lock()
		defer m.mu.Unlock()
		return slices.Sorted(maps.Keys(m.seen))
	}
	var members []*member
	for i, name := range names {
		p := testsrv.StartProgram(t, "--set", "cluster.name="+name, "--set", "cluster.every=100ms",
			"--set", fmt.Sprintf("nats.embedded.port=%d", port),
			"--set", "discovery.heartbeat=200ms", "--set", "discovery.ttl=1s", "--set", "discovery.deregisterDelay=50ms")
		m := &member{prog: p, cmd: p.Cmd, seen: map[string]bool{}, hosting: make(chan struct{}), done: make(chan struct{})}
		members = append(members, m)
		go func() {
			defer close(m.done)
			hosting := m.hosting
			for rec := range p.Records {
				if lvl, _ := rec["level"].(string); lvl == "WARN" || lvl == "ERROR" {
					m.mu.Lock()
					m.logs = append(m.logs, fmt.Sprint(rec))
					m.mu.Unlock()
				}
				if hosting != nil && rec["msg"] == "hosting the machine's embedded NATS server" {
					close(hosting)
					hosting = nil
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
		if i == 0 { // the first hosts the server, the others join it
			select {
			case <-m.hosting:
			case <-m.done:
				t.Fatalf("member %s ended before hosting the embedded server; it wrote:\n%s", name, p.Text())
			case <-time.After(20 * time.Second):
				t.Fatalf("member %s did not host the embedded server within 20s", name)
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for i, m := range members {
		for len(heard(m)) < len(names) {
			if time.Now().After(deadline) {
				t.Fatalf("after 20s member %s heard from %v, want all of %v", names[i], heard(m), names)
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
			m.mu.Lock()
			logs := strings.Join(m.logs, "\n")
			m.mu.Unlock()
			t.Errorf("member %s: %v; it wrote:\n%s\nits warnings and errors:\n%s", names[i], err, m.prog.Text(), logs)
		}
	}
}
