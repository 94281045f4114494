package ipc

import (
	"os/exec"
	"syscall"
)

// setParentDeath makes the kernel kill the child when the parent dies.
func setParentDeath(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
