package transport

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// DefaultMaxFrameSize is the largest message accepted when [Options.MaxFrameSize] is zero:
// 16 MiB, the default maximum packet size of the Netron wire protocol.
const DefaultMaxFrameSize = 16 << 20

// Defaults of the connection limits of listeners, used where the [Options] field is zero.
const (
	// DefaultHandshakeTimeout bounds the set-up of an accepted connection: 10 s from accept
	// to the end of the TLS handshake or of the WebSocket upgrade request.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultFrameTimeout bounds a message (or an HTTP request body) once its first byte has
	// arrived: 15 s, extended by [DefaultFrameMinRate] for larger ones.
	DefaultFrameTimeout = 15 * time.Second
	// DefaultMaxConns caps the connections open on one listener: 10,000.
	DefaultMaxConns = 10000
	// DefaultMaxHeaderBytes caps the header of an HTTP request, a WebSocket upgrade included:
	// 64 KiB.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultHTTPIdleTimeout bounds how long an HTTP keep-alive connection waits for its next
	// request: 2 min.
	DefaultHTTPIdleTimeout = 2 * time.Minute
	// DefaultCloseTimeout bounds how long closing a connection waits for the peer's part of a
	// closing handshake (WebSocket's close frame): 1 s.
	DefaultCloseTimeout = time.Second
)

// DefaultFrameMinRate is the slowest a message that takes longer than [Options.FrameTimeout]
// may arrive: 64 KiB per 10 s.
var DefaultFrameMinRate = Rate{Bytes: 64 << 10, Per: 10 * time.Second}

// Rate is an amount of bytes per duration.
type Rate struct {
	// Bytes is the amount that must arrive within each Per.
	Bytes int
	// Per is the duration.
	Per time.Duration
}

// String formats the rate as "65536 bytes per 10s".
func (r Rate) String() string { return fmt.Sprintf("%d bytes per %v", r.Bytes, r.Per) }

// Options configures a listener or a dialed connection. The zero value is valid: 16 MiB frames,
// no TLS, and the default limits of accepted connections. The limits (HandshakeTimeout and the
// fields after it) apply to listeners; dialed connections ignore them.
type Options struct {
	// MaxFrameSize is the largest message in bytes that is sent or accepted. Zero means
	// [DefaultMaxFrameSize]; negative values and values that do not fit the u32 length prefix
	// are refused by [Options.Validate].
	MaxFrameSize int
	// TLS, when not nil, wraps stream connections in TLS (tls.Server when listening, tls.Client
	// when dialing). Nil means plain connections. Transports that have no TLS refuse a non-nil
	// value rather than silently ignoring it.
	TLS *tls.Config
	// ServerTLS is the client TLS configuration for a transport whose server decides whether
	// the connection uses TLS (NATS: the server's INFO asks for it): used when the server
	// asks, ignored otherwise. Nil means the system's roots then. Netron sets it to its client
	// configuration ([netron.WithTLS], security.tls) on every dial and listen.
	ServerTLS *tls.Config

	// HandshakeTimeout bounds the set-up of an accepted connection, from accept: the TLS
	// handshake, and the HTTP request of a WebSocket upgrade (headers included, however
	// slowly they arrive). A connection that has not finished by then is closed. On the
	// HTTP listeners (http, https, ws, wss; package httpmux) net/http times the TLS
	// handshake and the request header apart, each within HandshakeTimeout, so over TLS
	// the set-up may take up to twice as long. Zero means [DefaultHandshakeTimeout];
	// negative means no limit.
	HandshakeTimeout time.Duration
	// FrameTimeout bounds a message once its first byte has arrived: a message (or an HTTP
	// request body) must be complete within FrameTimeout, or keep arriving at FrameMinRate at
	// least; otherwise the connection is closed and ReadMessage returns an error matching
	// [ErrFrameTimeout]. Waiting for the first byte of the next message is not limited (the
	// engine probes idle connections). Zero means [DefaultFrameTimeout]; negative means no
	// limit.
	FrameTimeout time.Duration
	// FrameMinRate is the slowest a message longer to arrive than FrameTimeout may come: each
	// time Bytes more have arrived, the deadline moves to Per from then, if that is later. The
	// zero value means [DefaultFrameMinRate]; otherwise both fields must be positive.
	FrameMinRate Rate
	// MaxConns caps the connections open at once on a listener (for HTTP-based transports,
	// on the HTTP server of the address, its HTTP and WebSocket connections together). A
	// connection accepted over the cap is closed at once and a warning is logged, at most one
	// every 10 s with the count refused. Zero means [DefaultMaxConns]; negative means no cap.
	MaxConns int
	// MaxConnsPerIP caps the connections open at once from one remote IP address (an IPv6
	// address counts by its /64 network) on a listener, refused like those over MaxConns. Zero (the default) means no cap: tests on
	// loopback and clients behind one proxy share an address.
	MaxConnsPerIP int
	// MaxHeaderBytes caps the header of an HTTP request, WebSocket upgrades included; a larger
	// one is answered 431. Zero means [DefaultMaxHeaderBytes]. Used by HTTP-based transports.
	MaxHeaderBytes int
	// HTTPIdleTimeout bounds how long an HTTP keep-alive connection waits for its next
	// request. Zero means [DefaultHTTPIdleTimeout]. Used by HTTP-based transports.
	HTTPIdleTimeout time.Duration
	// CloseTimeout bounds how long Close waits for the peer's part of a closing handshake
	// (WebSocket's close frame; a peer that is not reading never answers); the connection is
	// dropped after it. Zero means [DefaultCloseTimeout]. Used by transports with a closing
	// handshake.
	CloseTimeout time.Duration
	// Logger receives the warnings of listeners (refused connections) and of dialled
	// connections that report apart from any message (a nats:// connection's slow consumer).
	// Nil means none (a dialled nats:// connection then logs on slog.Default).
	Logger *slog.Logger
	// Ports is the scope in which the listener shares its port with others (ws:// and
	// http:// on one host:port, package httpmux). Nil means the process-wide scope; a Netron
	// gives its listeners one of its own.
	Ports *Ports
}

// Validate reports a misconfigured field, naming it.
func (o Options) Validate() error {
	if o.MaxFrameSize < 0 {
		return fmt.Errorf("transport: Options.MaxFrameSize is %d; it must be 0 (default %d) or positive",
			o.MaxFrameSize, DefaultMaxFrameSize)
	}
	if uint64(o.MaxFrameSize) > math.MaxUint32 {
		return fmt.Errorf("transport: Options.MaxFrameSize is %d; the length prefix allows at most %d",
			o.MaxFrameSize, uint64(math.MaxUint32))
	}
	if r := o.FrameMinRate; r != (Rate{}) && (r.Bytes <= 0 || r.Per <= 0) {
		return fmt.Errorf("transport: Options.FrameMinRate is %v; give both fields positive, or neither (default %v)",
			r, DefaultFrameMinRate)
	}
	if o.MaxConnsPerIP < 0 {
		return fmt.Errorf("transport: Options.MaxConnsPerIP is %d; it must be 0 (no cap) or positive", o.MaxConnsPerIP)
	}
	if o.MaxHeaderBytes < 0 {
		return fmt.Errorf("transport: Options.MaxHeaderBytes is %d; it must be 0 (default %d) or positive",
			o.MaxHeaderBytes, DefaultMaxHeaderBytes)
	}
	if o.CloseTimeout < 0 {
		return fmt.Errorf("transport: Options.CloseTimeout is %v; it must be 0 (default %v) or positive",
			o.CloseTimeout, DefaultCloseTimeout)
	}
	if o.HTTPIdleTimeout < 0 {
		return fmt.Errorf("transport: Options.HTTPIdleTimeout is %v; it must be 0 (default %v) or positive",
			o.HTTPIdleTimeout, DefaultHTTPIdleTimeout)
	}
	return nil
}

// FrameLimit returns the effective maximum message size: MaxFrameSize, or
// [DefaultMaxFrameSize] when it is zero.
func (o Options) FrameLimit() int {
	if o.MaxFrameSize == 0 {
		return DefaultMaxFrameSize
	}
	return o.MaxFrameSize
}

// Limits returns the effective connection limits of o, defaults applied; in the result, zero
// means no limit.
func (o Options) Limits() Limits {
	l := Limits{
		HandshakeTimeout: orDefault(o.HandshakeTimeout, DefaultHandshakeTimeout),
		FrameTimeout:     orDefault(o.FrameTimeout, DefaultFrameTimeout),
		FrameMinRate:     o.FrameMinRate,
		MaxConns:         orDefault(o.MaxConns, DefaultMaxConns),
		MaxConnsPerIP:    max(o.MaxConnsPerIP, 0),
		MaxHeaderBytes:   orDefault(o.MaxHeaderBytes, DefaultMaxHeaderBytes),
		HTTPIdleTimeout:  orDefault(o.HTTPIdleTimeout, DefaultHTTPIdleTimeout),
	}
	if l.FrameMinRate == (Rate{}) {
		l.FrameMinRate = DefaultFrameMinRate
	}
	if l.FrameTimeout == 0 {
		l.FrameMinRate = Rate{}
	}
	return l
}

// orDefault returns v when it is positive, def when it is zero and zero (none) when it is
// negative.
func orDefault[T int | time.Duration](v, def T) T {
	switch {
	case v > 0:
		return v
	case v == 0:
		return def
	}
	return 0
}

// Limits are the effective connection limits of a listener, as [Options.Limits] returns them:
// defaults applied, and zero meaning no limit. Transports read them; applications set
// [Options].
type Limits struct {
	HandshakeTimeout time.Duration
	FrameTimeout     time.Duration
	FrameMinRate     Rate // zero when FrameTimeout is
	MaxConns         int
	MaxConnsPerIP    int
	MaxHeaderBytes   int
	HTTPIdleTimeout  time.Duration
}
