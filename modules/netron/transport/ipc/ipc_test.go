package ipc_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/ipc"
)

const modeEnv = "IPC_TEST_CHILD"

func TestMain(m *testing.M) {
	if ipc.Inherited() && os.Getenv(modeEnv) != "" {
		os.Exit(child(os.Getenv(modeEnv)))
	}
	goleak.VerifyTestMain(m)
}

// child echoes every message; in mode "die" it exits after the first; in
// mode "burst" it answers the first with burstSize messages and exits.
func child(mode string) int {
	fds := ipc.ParentPipes() // the environment holds it no more
	if mode == "early" {
		return startEarly(fds)
	}
	l, err := transport.Listen(context.Background(), "ipc:", transport.Options{})
	if err != nil {
		return 3
	}
	defer l.Close()
	if mode == "twice" {
		return listenTwice()
	}
	c, err := l.Accept(context.Background())
	if err != nil {
		return 4
	}
	if mode == "closeread" {
		return closeRead(c)
	}
	if mode == "grandchild" {
		return grandchild(fds)
	}
	for {
		msg, err := c.ReadMessage()
		if errors.Is(err, io.EOF) {
			return 0
		}
		if err != nil {
			return 5
		}
		if mode == "burst" {
			for i := range burstSize {
				if err := c.WriteMessages([]byte{byte(i)}); err != nil {
					return 7
				}
			}
			os.Exit(0)
		}
		if err := c.WriteMessages(msg); err != nil {
			return 6
		}
		if mode == "die" {
			os.Exit(0)
		}
	}
}

// closeRead, in the child, closes its connection while a ReadMessage
// waits for the parent: the read must end (8 when it is still blocked 3 s
// later).
func closeRead(c transport.Conn) int {
	done := make(chan error, 1)
	go func() { _, err := c.ReadMessage(); done <- err }()
	time.Sleep(100 * time.Millisecond)
	c.Close()
	select {
	case <-done:
		return 0
	case <-time.After(3 * time.Second):
		return 8
	}
}

// grandchild, in the child, starts a process of its own and checks that it holds none of the
// pipes to the parent (9 when it does): they are the child's alone.
func grandchild(fds string) int {
	out, err := exec.Command("ls", "-l", "/proc/self/fd").Output() // the fds of ls
	if err != nil {
		return 10
	}
	for fd := range strings.SplitSeq(fds, ",") {
		pipe, err := os.Readlink("/proc/self/fd/" + fd)
		if err != nil || !strings.HasPrefix(pipe, "pipe:") {
			return 11
		}
		if strings.Contains(string(out), pipe) {
			return 9
		}
	}
	return 0
}

// The pipes to the parent are not inherited by the processes the child starts: a grandchild
// holding them could read or write the parent's messages, and keeps the pipe open after the
// child exits.
func TestPipesNotInheritedByGrandchild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	childSucceeds(t, "grandchild", "status 9: its own child inherited the pipes to the parent")
}

// childSucceeds spawns the test's child in mode and fails the test unless it exits with
// status 0 within 10 s; statuses explains its other exit statuses.
func childSucceeds(t *testing.T, mode, statuses string) {
	t.Helper()
	c := spawn(t, mode)
	select {
	case <-c.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("the child did not exit within 10 s")
	}
	if err := c.ExitErr(); err != nil {
		t.Fatalf("child: %v (%s)", err, statuses)
	}
}

// startEarly, in the child before it listens on "ipc:", starts a process of its own and checks
// that it gets neither TITAN_IPC (14 when it does: it would take the child's parent for its
// own) nor the pipes to the parent (9).
func startEarly(fds string) int {
	out, err := exec.Command("env").Output()
	if err != nil {
		return 10
	}
	if strings.Contains(string(out), ipc.EnvVar+"=") {
		return 14
	}
	return grandchild(fds)
}

// The processes a child starts before it listens on "ipc:" are not told they were started by
// Spawn, and hold none of the pipes to the parent.
func TestGrandchildStartedBeforeListenInheritsNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	childSucceeds(t, "early", "status 14: its own child got "+ipc.EnvVar+"; status 9: it got the pipes to the parent")
}

// listenTwice, in the child that listens on "ipc:" already, listens again: that must fail
// saying the pipes are taken (12 when the error says something else, such as that the
// process was not started by Spawn).
func listenTwice() int {
	l, err := transport.Listen(context.Background(), "ipc:", transport.Options{})
	if err == nil {
		l.Close()
		return 13
	}
	if !strings.Contains(err.Error(), "already") {
		fmt.Fprintln(os.Stderr, err)
		return 12
	}
	return 0
}

// A second listener on "ipc:" in a spawned child (the inherited address listed in the
// configuration as well) is refused for what it is: the pipes to the parent are served
// already; the process was started by Spawn all the same.
func TestSecondListenSaysPipesAreTaken(t *testing.T) {
	childSucceeds(t, "twice", "status 12: the second Listen's error does not say the pipes are taken")
}

// The child's Close ends its read that waits for the parent (the
// inherited pipes were blocking files, which Close cannot interrupt: the
// reader and its descriptor stayed until the parent wrote or closed).
func TestChildCloseEndsItsRead(t *testing.T) {
	childSucceeds(t, "closeread", "status 8: its ReadMessage was still blocked 3 s after Close")
}

func spawn(t *testing.T, mode string) *ipc.Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// GORACE: a race-enabled child otherwise sleeps 1s at exit.
	cmd.Env = append(os.Environ(), modeEnv+"="+mode, "GORACE=atexit_sleep_ms=0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ipc.Spawn(ctx, cmd, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEcho(t *testing.T) {
	c := spawn(t, "echo")
	for _, size := range []int{0, 1, 32, 4096, 1 << 20} {
		msg := bytes.Repeat([]byte{byte(size)}, size)
		if err := c.WriteMessages(msg); err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadMessage()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("size %d: got %d bytes, %v", size, len(got), err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("child still running after Close")
	}
	if c.ExitErr() != nil {
		t.Fatalf("child exit: %v", c.ExitErr())
	}
}

func TestChildDeathIsEOF(t *testing.T) {
	c := spawn(t, "die")
	if err := c.WriteMessages([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.ReadMessage(); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("read after the child died succeeded")
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read after death: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("read did not fail after the child died")
	}
}

const burstSize = 200

// TestChildExitLosesNothing: what a child wrote just before it exited is
// read, then EOF (the parent closed the connection at the child's exit and
// could lose those messages: seen under load in TestChildDeathIsEOF).
func TestChildExitLosesNothing(t *testing.T) {
	for range 5 {
		c := spawn(t, "burst")
		if err := c.WriteMessages([]byte("go")); err != nil {
			t.Fatal(err)
		}
		<-c.Exited() // the child is gone before anything is read
		for i := range burstSize {
			msg, err := c.ReadMessage()
			if err != nil || len(msg) != 1 || msg[0] != byte(i) {
				t.Fatalf("message %d: %v %v", i, msg, err)
			}
		}
		if _, err := c.ReadMessage(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last message: %v, want EOF", err)
		}
	}
}

func TestCloseKillsStubbornChild(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	c, err := ipc.Spawn(context.Background(), cmd, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.Close() // sleep dies of SIGTERM
	if time.Since(start) > ipc.ExitWait+3*time.Second {
		t.Fatalf("close took %v", time.Since(start))
	}
	select {
	case <-c.Exited():
	default:
		t.Fatal("child not reaped after Close")
	}
}

// Spawn refuses a TLS configuration, as the transport's Listen does, rather than ignoring it
// (transport.Options.TLS), and starts nothing then.
func TestSpawnRefusesTLS(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	c, err := ipc.Spawn(context.Background(), cmd, transport.Options{TLS: &tls.Config{}})
	if err == nil {
		c.Close()
		t.Fatal("Spawn with Options.TLS succeeded")
	}
	if !strings.Contains(err.Error(), "TLS") {
		t.Errorf("Spawn with Options.TLS = %q, want an error about TLS", err)
	}
	if cmd.Process != nil {
		t.Error("Spawn with Options.TLS started the command")
	}
}

func TestNotAChild(t *testing.T) {
	if _, err := transport.Listen(context.Background(), "ipc:", transport.Options{}); err == nil {
		t.Fatal("listen on ipc: outside a spawned child succeeded")
	}
	if _, err := transport.Dial(context.Background(), "ipc:", transport.Options{}); err == nil {
		t.Fatal("dial ipc: succeeded")
	}
}

// An address other than "ipc:" is refused as such, without showing a password it holds.
func TestBadAddress(t *testing.T) {
	for _, addr := range []string{"ipc://user:s3cret@host", "ipc://user:s3cret@", "ipc:child"} {
		_, err := transport.Listen(context.Background(), addr, transport.Options{})
		if err == nil {
			t.Fatalf("Listen(%q) succeeded", addr)
		}
		if !strings.Contains(err.Error(), "want ipc:") {
			t.Errorf("Listen(%q) = %q, want an error about the address", addr, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Listen(%q) error %q shows the password", addr, err)
		}
	}
}

// A process started by Spawn says so through transport.Inheritor, so that
// the engine serves "ipc:" without naming the scheme.
func TestInheritedAddr(t *testing.T) {
	t.Cleanup(ipc.SetParentPipes(""))
	if got := transport.Inherited(); len(got) != 0 {
		t.Fatalf("Inherited() = %v outside a spawned child", got)
	}
	ipc.SetParentPipes("3,4")
	if got := transport.Inherited(); len(got) != 1 || got[0] != "ipc:" {
		t.Fatalf("Inherited() = %v in a spawned child, want [ipc:]", got)
	}
}

// A query, which "ipc:" does not read, is refused naming the key, before the process is
// asked whether it was spawned.
func TestQueryIsRefused(t *testing.T) {
	_, err := transport.Listen(context.Background(), "ipc:?fds=3,4", transport.Options{})
	if err == nil || !strings.Contains(err.Error(), `"fds"`) {
		t.Fatalf(`Listen("ipc:?fds=3,4") = %v, want the query refused naming the key`, err)
	}
}
