//go:build !linux

package ipc

import "os/exec"

// setParentDeath has no portable equivalent outside Linux; there the child
// notices the parent's death when its pipe reads EOF.
func setParentDeath(*exec.Cmd) {}
