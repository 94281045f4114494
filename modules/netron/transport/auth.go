package transport

// Credentials is implemented by connections that carry credentials presented when the
// connection was set up, such as the bearer token of a WebSocket upgrade request
// (NETRON-WIRE.md §4.4). The engine checks for it with a type assertion and hands the token to
// its authentication hook, as if the peer had run the authenticate task; connections that do
// not implement it, or return "", are anonymous until they authenticate.
type Credentials interface {
	// Token returns the bearer token the peer presented, or "" when it presented none. Safe
	// for concurrent use; the value does not change during the connection's life.
	Token() string
}

// Rejecter is implemented by connections that can tell the peer why its credentials were
// refused before closing: a WebSocket connection closes with status 4001 and the reason, as the
// original server does (NETRON-WIRE.md §4.4). The engine uses it, when implemented, instead of
// Close for a connection whose [Credentials] token its authentication hook refused.
type Rejecter interface {
	// Reject closes the connection, telling the peer reason (at most 123 bytes are sent; a
	// longer reason is cut at a UTF-8 boundary). Like Close it is idempotent and unblocks
	// pending reads and writes.
	Reject(reason string) error
}
