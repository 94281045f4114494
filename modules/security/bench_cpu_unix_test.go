//go:build unix

package security_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) this process has used, for
// the benchmarks' cpu-ns/op: unlike ns/op, it does not grow when other
// processes take the machine's CPUs.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
