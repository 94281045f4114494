//go:build !unix

package transporttest

// RaiseFDLimit returns want: this system has no per-process limit to raise.
func RaiseFDLimit(want int) int { return want }
