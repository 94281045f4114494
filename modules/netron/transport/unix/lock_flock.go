//go:build unix && !solaris && !aix

package unix

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive lock on the directory dir (flock) and returns its release: the
// listeners of all processes that go through it check, remove and bind the socket files of
// dir one at a time, so that none removes the socket of a listener that bound it after the
// check (see removeStale). Where dir cannot be opened for reading or locked, it locks nothing.
func lockDir(dir string) (unlock func()) {
	f, err := os.Open(dir)
	if err != nil {
		return func() {}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return func() {}
	}
	return func() { _ = f.Close() } // closing the last descriptor releases the lock
}
