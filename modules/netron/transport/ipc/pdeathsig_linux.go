package ipc

import (
	"os/exec"
	"runtime"
	"syscall"
)

// setParentDeath makes the kernel kill the child when the parent dies.
func setParentDeath(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// startAndWait starts cmd and gives cmd.Wait's result to waited, from a
// goroutine that holds its OS thread until the child is reaped. The kernel
// sends the parent-death signal when the thread that started the child
// ends, not the process (golang/go#27505), and the runtime ends a thread
// whose locked goroutine exits, whichever goroutine that was: started from
// the caller's thread, the child could be killed while the parent lives.
// The cost is one thread per child, which cmd.Wait blocks in anyway.
func startAndWait(cmd *exec.Cmd, waited func(error)) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			waited(cmd.Wait())
		}
	}()
	return <-started
}
