//go:build !unix

package ipc

// pollable does nothing where inherited pipes are not unix descriptors.
func pollable(int) {}

// noInherit does nothing where inherited pipes are not unix descriptors.
func noInherit(int) {}
