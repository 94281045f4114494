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
