// Package transporttest helps test Netron transports and the code above them.
//
// [Listen], [Dial] and [Pair] start listeners and connections on fresh local addresses
// (port 0, a short temporary socket path, an automatic mem:// name) and close them through
// t.Cleanup. [Run] is the conformance suite every transport runs from its own tests;
// [RunStream] adds the checks specific to length-prefixed stream sockets, and
// [RunLimits] the connection limits of a listener, [RunTLSLimits] the frame timeout of a TLS
// listener beneath TLS (a peer that stops inside a TLS record), and [BenchmarkRoundTrip] the
// shared benchmark:
//
//	func TestConformance(t *testing.T) { transporttest.Run(t, "tcp") }
//
// The transport under test must be registered, usually by importing its package.
package transporttest
