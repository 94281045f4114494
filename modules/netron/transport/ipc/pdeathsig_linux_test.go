package ipc_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport/ipc"
)

// TestChildOutlivesTheSpawningThread spawns a child from a goroutine that
// holds its OS thread and ends without giving it back, so the runtime ends
// that thread. The kernel's parent-death signal follows the thread that
// started a child, not the process (golang/go#27505): the child must not
// die with the thread, only with the process.
func TestChildOutlivesTheSpawningThread(t *testing.T) {
	type spawned struct {
		c   *ipc.Child
		tid int
	}
	var (
		child   = make(chan spawned, 1)
		failed  = make(chan any, 1)
		release = make(chan struct{})
	)
	defer close(release)
	spawnOnOwnThread := func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		defer func() {
			if r := recover(); r != nil {
				failed <- r
			}
		}()
		child <- spawned{spawn(t, "echo"), syscall.Gettid()}
	}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if syscall.Gettid() != os.Getpid() {
			spawnOnOwnThread()
			return
		}
		// The runtime keeps the process's main thread when a goroutine
		// locked to it ends: hold it, and spawn from another.
		go spawnOnOwnThread()
		<-release
	}()
	var s spawned
	select {
	case s = <-child:
	case r := <-failed:
		t.Fatal(r)
	}
	task := fmt.Sprintf("/proc/self/task/%d", s.tid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(task); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spawning thread %d did not end", s.tid)
		}
	}
	c := s.c
	msg := []byte("still here")
	err := c.WriteMessages(msg)
	var got []byte
	if err == nil {
		got, err = c.ReadMessage()
	}
	if err != nil || !bytes.Equal(got, msg) {
		select {
		case <-c.Exited():
			t.Fatalf("child %d died with the thread that spawned it: %v", c.Pid(), c.ExitErr())
		case <-time.After(time.Second):
		}
		t.Fatalf("child %d after its spawning thread ended: got %q, %v", c.Pid(), got, err)
	}
}
