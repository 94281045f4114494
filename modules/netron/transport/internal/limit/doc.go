// Package limit holds what the listeners of package transport share to bound what one client
// may hold: [Conns] counts a listener's connections, in total and per remote address, and
// [FrameClock] is the deadline of a message being received.
package limit
