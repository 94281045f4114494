//go:build !linux

package ipc

import "os/exec"

// setParentDeath has no portable equivalent outside Linux; there the child
// notices the parent's death when its pipe reads EOF.
func setParentDeath(*exec.Cmd) {}

// startAndWait starts cmd and gives cmd.Wait's result to waited, from
// another goroutine.
func startAndWait(cmd *exec.Cmd, waited func(error)) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { waited(cmd.Wait()) }()
	return nil
}
