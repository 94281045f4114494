package transport

import (
	"context"
	"net/url"
	"slices"
	"strings"
)

// Capabilities describes what a [Transport] can do, so the engine can pick behaviour (for
// example, whether server-to-client calls and streams are possible) without knowing the medium.
type Capabilities struct {
	// Streaming reports that a connection carries many messages over time, not one exchange.
	Streaming bool
	// Bidirectional reports that either side may send at any time.
	Bidirectional bool
	// Binary reports that messages may hold arbitrary bytes, not only UTF-8 text.
	Binary bool
	// Reconnection reports that a dropped connection can be replaced by dialing the same
	// address again.
	Reconnection bool
	// MaxFrameSize is the default largest message in bytes, [DefaultMaxFrameSize] for the
	// built-in transports; [Options.MaxFrameSize] overrides it per listener or dial.
	// Zero means unlimited.
	MaxFrameSize int
}

// Conn is one message-oriented connection. Each message is one Netron packet or one JSON
// handshake text.
//
// Errors after [Conn.Close] match [net.ErrClosed] with [errors.Is]; a clean close by the peer
// makes ReadMessage return [io.EOF] once every message sent before it has been read.
type Conn interface {
	// ReadMessage blocks for the next whole message. The returned slice is valid only until the
	// next ReadMessage call (callers copy what they keep). Safe to call from one goroutine at a
	// time. A declared length above the connection's maximum frame size returns an error
	// matching [ErrFrameTooLarge] and closes the connection.
	ReadMessage() ([]byte, error)
	// WriteMessages writes the messages in order, as one batch: for stream sockets one writev
	// carrying all length prefixes and bodies, so a writer loop can coalesce many small packets
	// into one syscall. Safe for concurrent use (serialised internally); the messages of one
	// call are never interleaved with another call's. A message larger than the maximum frame
	// size is refused with [ErrFrameTooLarge] before anything is written, and the connection
	// stays usable. The caller may reuse the slices once WriteMessages returns. Writing no
	// messages is a no-op.
	WriteMessages(msgs ...[]byte) error
	// Close closes the connection and unblocks pending ReadMessage and WriteMessages calls.
	// It is idempotent: calls after the first return nil.
	Close() error
	// LocalAddr returns this side's address as a URL, e.g. tcp://127.0.0.1:7070.
	LocalAddr() string
	// RemoteAddr returns the peer's address as a URL.
	RemoteAddr() string
}

// Listener accepts connections on one address.
type Listener interface {
	// Accept waits for the next connection. It returns ctx.Err() (wrapped) when ctx ends first,
	// and an error matching [net.ErrClosed] once the listener is closed. Safe for concurrent use.
	Accept(ctx context.Context) (Conn, error)
	// Addr returns the bound address as a URL, with wildcards such as port 0 resolved, so it
	// can be passed to [Dial].
	Addr() string
	// Close stops listening and unblocks pending Accept calls. Connections already accepted
	// stay open. It is idempotent: calls after the first return nil.
	Close() error
}

// Transport listens on and dials the addresses of one or more URL schemes. Implementations are
// safe for concurrent use.
type Transport interface {
	// Name returns a short identifier such as "tcp", used in logs and errors.
	Name() string
	// Schemes returns the URL schemes the transport serves, in lower case.
	Schemes() []string
	// Capabilities describes the transport.
	Capabilities() Capabilities
	// Listen binds the address u. ctx bounds the bind only, not the listener's lifetime.
	Listen(ctx context.Context, u *url.URL, o Options) (Listener, error)
	// Dial connects to the address u. ctx bounds connection set-up only, not the connection's
	// lifetime.
	Dial(ctx context.Context, u *url.URL, o Options) (Conn, error)
}

// Securer is implemented by a transport some of whose schemes are TLS by definition (wss,
// tls): the engine gives connections of those schemes the TLS configuration of the Netron
// (netron.WithTLS), and none to the others. A transport that does not implement it has no
// secure scheme.
type Securer interface {
	// SecureScheme reports whether scheme (one of the transport's, lower case) is TLS by
	// definition.
	SecureScheme(scheme string) bool
}

// IsSecure reports whether scheme is TLS by definition, as its registered transport says
// ([Securer]); false for a scheme no transport registered.
func IsSecure(scheme string) bool {
	t, err := Lookup(scheme)
	if err != nil {
		return false
	}
	s, ok := t.(Securer)
	return ok && s.SecureScheme(strings.ToLower(scheme))
}

// Inheritor is implemented by a transport through which a parent process may have handed this
// process a connection (ipc: inherited pipes). The engine listens on the inherited address by
// itself, and treats the connection accepted there as the link to its parent: when it ends,
// the parent is gone.
type Inheritor interface {
	// InheritedAddr returns the address to listen on to serve the parent, and whether this
	// process has one.
	InheritedAddr() (string, bool)
}

// Inherited returns the inherited addresses of the registered transports ([Inheritor]),
// sorted; none for a process that was not started that way.
func Inherited() []string {
	registry.RLock()
	defer registry.RUnlock()
	var out []string
	for _, t := range registry.byScheme {
		if in, ok := t.(Inheritor); ok {
			if a, ok := in.InheritedAddr(); ok {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out) // a transport of several schemes is met once per scheme
}

// WriteCounter is implemented by connections that can report how many write calls they issued
// to the operating system, so tests can prove that concurrent small writes were coalesced.
type WriteCounter interface {
	// Writes returns the number of write calls issued so far. Safe for concurrent use.
	Writes() uint64
}

// ReadCounter is implemented by connections that count the bytes they read from the medium as
// they arrive, those of a message not yet complete included. The engine's idle probe watches it:
// a peer sending a large message slowly is not silent, though no whole message has arrived for
// long, and it answers a ping only after that message.
type ReadCounter interface {
	// BytesRead returns the number of bytes read from the medium so far. Safe for concurrent
	// use.
	BytesRead() uint64
}

// Pinger is implemented by connections whose medium has a keep-alive probe of its own, such as
// the ping control frame of WebSocket. The engine, probing a connection that has been silent,
// uses it when implemented (netron-browser answers WebSocket pings but sends no Netron PING),
// and a Netron PING packet otherwise.
type Pinger interface {
	// Ping sends a probe and waits for the peer's answer or for ctx to end; the error is
	// ctx's when no answer came in time. The answer is read by ReadMessage, so a connection
	// whose owner does not read all the time never sees it. Safe for concurrent use.
	Ping(ctx context.Context) error
}
