//go:build unix

package transporttest

import "syscall"

// RaiseFDLimit raises the soft limit of open files of the process towards want (up to the hard
// limit) and returns the limit in force.
func RaiseFDLimit(want int) int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return want // unknown: try
	}
	if r.Cur < uint64(want) && r.Max > r.Cur {
		n := r
		n.Cur = min(uint64(want), r.Max)
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n) == nil {
			r = n
		}
	}
	return int(min(r.Cur, uint64(1<<30)))
}
