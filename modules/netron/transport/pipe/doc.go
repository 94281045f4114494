// Package pipe is the Windows named-pipe transport: pipe://name is the pipe
// \\.\pipe\name, framed like tcp and unix (a 4-byte length prefix per
// message). It is built on Microsoft/go-winio. On other systems the scheme
// is registered but Listen and Dial fail with [ErrUnsupported], so an
// address in a configuration file gives a clear error instead of "unknown
// scheme".
package pipe
