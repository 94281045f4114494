// Package ipc carries Netron between a parent process and a child it
// starts, over two inherited pipes, with the length-prefixed framing of
// tcp and unix.
//
// The parent calls [Spawn] with an *exec.Cmd: the child gets the pipes as
// file descriptors 3 (it reads) and 4 (it writes) and the environment
// variable TITAN_IPC=3,4. In the child, listening on "ipc:" yields exactly
// one connection, to the parent ([Inherited] tells whether the process was
// started this way). The package takes TITAN_IPC out of the child's
// environment as the child starts, and the pipes are close-on-exec, so the
// processes the child starts inherit neither. When the child dies, the parent's connection reads
// EOF, so calls in flight fail; when the parent closes the connection, the
// child gets a second to exit by itself, then SIGTERM, then SIGKILL after a grace period, and is reaped; on
// Linux the child also gets SIGKILL if the parent dies first, so no child
// outlives its parent (and only then: the kernel ties that signal to the
// thread that started the child, so Spawn starts and reaps each child from
// a thread it holds for the child's life).
//
// Dial is not supported: a child is reached through the connection Spawn
// returns.
package ipc
