//go:build !unix || solaris || aix

package unix

// lockDir locks nothing where flock is not available: listeners started at the same moment
// on one path with a stale socket may remove each other's socket file there.
func lockDir(string) (unlock func()) { return func() {} }
