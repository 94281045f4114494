package netron_test

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// ipcChildEnv makes the test binary act as an ipc child serving Calc.
const ipcChildEnv = "NETRON_TEST_IPC_CHILD"

// ipcChild serves the calculator to its parent until the parent is gone.
func ipcChild() int {
	lost := make(chan struct{})
	n, err := netron.New(netron.Config{}, nil, netron.WithParentLost(func() { close(lost) }))
	if err != nil {
		return 3
	}
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		return 4
	}
	if _, err := n.Listen(context.Background(), "ipc:"); err != nil {
		return 5
	}
	<-lost
	n.Stop(context.Background())
	return 0
}

func spawnChild(t *testing.T) (*netron.Peer, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// GORACE: a race-enabled child otherwise sleeps 1s at exit.
	cmd.Env = append(os.Environ(), ipcChildEnv+"=1", "GORACE=atexit_sleep_ms=0")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := netron.SpawnIPC(ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return p, cmd
}

func TestSpawnIPC(t *testing.T) {
	t.Parallel()
	p, cmd := spawnChild(t)
	ctx := context.Background()
	if got, err := netron.CallUnary[float64](ctx, p, "calculator@^1", "add", 2, 3); err != nil || got != 5 {
		t.Fatalf("add = %v, %v", got, err)
	}
	n := 0
	for _, err := range netron.CallStream[int](ctx, p, "calculator@1.0.0", "count", 10) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 10 {
		t.Fatalf("count gave %d", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if cmd.ProcessState == nil || !cmd.ProcessState.Exited() {
		t.Fatalf("child not reaped after Close: %v", cmd.ProcessState)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("child exit code %d, want 0 (it stops when its parent goes)", code)
	}
}

func TestSpawnIPCChildDeath(t *testing.T) {
	t.Parallel()
	p, cmd := spawnChild(t)
	defer p.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := p.Call(context.Background(), "calculator@1.0.0", "slow", "30s")
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond) // the call is in flight
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if netron.CodeOf(err) != netron.CodeUnavailable {
			t.Fatalf("in-flight call after the child died: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight call still waiting 5s after the child died")
	}
	_, err := p.Call(context.Background(), "calculator@1.0.0", "add", 1, 1)
	if netron.CodeOf(err) != netron.CodeUnavailable {
		t.Fatalf("call to a dead child: %v", err)
	}
}
