// Package unix is the Netron transport for Unix domain sockets, scheme "unix", with the
// length-prefix framing of package framed and optional TLS ([transport.Options.TLS]; set
// ServerName when dialing, since a socket path is no host name).
//
// Importing the package registers the transport:
//
//	import _ "github.com/titanframework/titan/modules/netron/transport/unix"
//
// Accepted addresses:
//
//	unix:///abs/path   absolute path (the form Addr reports; the path is URL-escaped)
//	unix:/abs/path     absolute path
//	unix:rel/path      path relative to the working directory (made absolute by Listen)
//	unix:@name         Linux abstract socket: no file; refused on other systems
//
// unix://name/path is refused: its first segment would be a URL host, and guessing whether it
// was meant as a relative directory is how sockets end up in the wrong place. An address with
// a query is refused rather than read as the path before the "?" (write a "?" in a path as %3F).
//
// Listen removes a stale socket file at the path (one nobody answers on) and refuses to touch a
// regular file or a socket with a live listener; closing the listener removes the socket file.
// Listeners of this package, in one process or several, check, remove and bind the sockets of
// a directory one at a time (an flock of the directory; not on Windows, Solaris and AIX), so
// that two started at once on a stale path do not remove each other's socket.
package unix
