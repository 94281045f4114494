package netron_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// blockingTask registers the task "block" on s: it ignores its context and
// returns once release is called (at the latest at cleanup, before the
// server stops). running counts the task functions not returned yet.
func blockingTask(t *testing.T, s *server) (running *atomic.Int64, release func()) {
	t.Helper()
	running = new(atomic.Int64)
	gate := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release) // runs before the server's Stop (cleanups run last first)
	if err := s.n.RegisterTask("block", func(context.Context, *netron.Peer, []any) (any, error) {
		running.Add(1)
		defer running.Add(-1)
		<-gate
		return "done", nil
	}); err != nil {
		t.Fatal(err)
	}
	return running, release
}

// expectTaskTimeout runs the task "block" and wants the server's
// deadline_exceeded answer for it.
func expectTaskTimeout(t *testing.T, p *netron.Peer) {
	t.Helper()
	err := p.Task(context.Background(), nil, "block")
	if netron.CodeOf(err) != netron.CodeDeadlineExceeded || !strings.Contains(err.Error(), "Task: block timed out after") {
		t.Fatalf("task past TaskTimeout: %v; want the server's deadline_exceeded answer", err)
	}
}

// A task that ignores its context is answered deadline_exceeded after
// TaskTimeout, but keeps its place among the MaxCallsPerPeer requests
// served at once until its function returns: a peer cannot pile up task
// goroutines past the cap by sending tasks that time out.
func TestTaskPastTimeoutKeepsItsCallSlot(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{TaskTimeout: 50 * time.Millisecond, MaxCallsPerPeer: 2}, nil)
	running, release := blockingTask(t, s)
	p := dialWith(t, s.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
	expectTaskTimeout(t, p)
	expectTaskTimeout(t, p)
	// Both slots are held by running tasks: the third request waits
	// unread, until the caller gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := p.Task(ctx, nil, "block")
	if n := running.Load(); n > 2 {
		t.Fatalf("%d task functions running at once for one peer (third task: %v); MaxCallsPerPeer is 2", n, err)
	}
	// Once the tasks return, their slots serve the next request.
	release()
	var got string
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Task(ctx, &got, "block"); err != nil || got != "done" {
		t.Fatalf("task after the blocked ones returned: %q, %v; want done", got, err)
	}
}

// Stop waits, up to its context's end, for a task still running past its
// TaskTimeout (it was answered deadline_exceeded, but its function has
// not returned).
func TestStopWaitsForTaskPastItsTimeout(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{TaskTimeout: 50 * time.Millisecond}, nil)
	running, release := blockingTask(t, s)
	p := dialWith(t, s.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
	expectTaskTimeout(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := s.n.Stop(ctx)
	if err == nil && running.Load() > 0 {
		t.Fatal("Stop returned nil while a task function was still running")
	}
	release()
}

// Stop past its context's end names the tasks still running as well as
// the calls: the task's function, past its TaskTimeout, is what Stop
// waited for.
func TestStopOverrunNamesTasks(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{TaskTimeout: 50 * time.Millisecond}, nil)
	_, release := blockingTask(t, s)
	defer release()
	p := dialWith(t, s.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
	expectTaskTimeout(t, p)
	go netron.CallUnary[string](context.Background(), p, "calculator@1.0.0", "slow", "3s")
	waitRunning(t, s.n, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s.n.Stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "1 calls and 1 tasks still running (calculator@1.0.0.slow from ") ||
		!strings.Contains(err.Error(), ", task block from ") {
		t.Fatalf("Stop past its timeout returned %v; want it to name the call calculator@1.0.0.slow and the task block", err)
	}
}
