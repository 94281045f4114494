//go:build unix

package ipc

import "syscall"

// pollable puts an inherited pipe in non-blocking mode before os.NewFile
// takes it, so that the File is served by the runtime's poller: Close then
// ends a read that waits, and read deadlines work. The parent's os.File.Fd
// hands the pipes over in blocking mode.
func pollable(fd int) { _ = syscall.SetNonblock(fd, true) }

// noInherit marks an inherited pipe close-on-exec: the exec.Cmd that
// passed it cleared the flag, and the processes this one starts must not
// hold the pipes to its parent.
func noInherit(fd int) { syscall.CloseOnExec(fd) }
