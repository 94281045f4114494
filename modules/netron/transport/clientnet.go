package transport

import "net/netip"

// ClientNetwork returns the network that limits per client count a remote
// address ip by: an IPv4 address alone (a /32), an IPv6 address by its
// /64, since one host commonly holds a whole /64 and can connect from any
// address in it. An IPv4-mapped IPv6 address counts as its IPv4 address;
// a zone is dropped. The zero Addr gives the zero Prefix.
// [Options.MaxConnsPerIP] counts connections so, and the security module
// its failed authentications and the rate limits of anonymous callers.
func ClientNetwork(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap().WithZone("")
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}
