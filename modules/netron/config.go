package netron

import (
	"cmp"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron/internal/compress"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Config is the `netron` configuration section.
type Config struct {
	// ID is this process's Netron id; empty means a fresh UUIDv7.
	ID string `json:"id,omitempty" jsonschema:"description=Netron id of this process; default a new UUIDv7"`
	// Listen lists the addresses to serve on, as URLs (tcp://127.0.0.1:7070,
	// unix:///run/app.sock, mem://name). Nothing by default.
	Listen []string `json:"listen,omitempty" jsonschema:"description=Addresses to listen on (URLs)"`
	// RequestTimeout bounds a call whose context has no deadline. From one
	// second on it is enforced within 50 ms (one sweeper for the process
	// instead of a timer per call); shorter ones are exact.
	RequestTimeout time.Duration `json:"requestTimeout" jsonschema:"description=Timeout of calls without a deadline"`
	// TaskTimeout bounds a task (query_interface, subscribe, ...) run for a peer.
	TaskTimeout time.Duration `json:"taskTimeout" jsonschema:"description=Timeout of tasks run for peers"`
	// MaxFrameSize is the largest packet accepted or sent, in bytes.
	MaxFrameSize int `json:"maxFrameSize" jsonschema:"minimum=1024,maximum=1073741824"`
	// MaxDepth is the deepest nesting of values accepted.
	MaxDepth int `json:"maxDepth" jsonschema:"minimum=8,maximum=1024"`
	// StreamWindow is the number of stream items a receiver lets a sender
	// have in flight (Go peers only; others get TCP back-pressure); at 64
	// the reader's grants held 32-byte streams back by 20 % on the
	// development machine.
	StreamWindow int `json:"streamWindow" jsonschema:"minimum=1,maximum=65536"`
	// StreamWindowBytes is the bytes of stream items a receiver lets a Go
	// sender have in flight on one stream, beside StreamWindow's items:
	// the sender holds back once it has this much unread (an item of any
	// size goes when nothing is in flight). The receiver announces at most
	// half of MaxStreamBytesPerPeer, so that a stream of large items read
	// slowly waits for its reader instead of passing that bound.
	StreamWindowBytes int64 `json:"streamWindowBytes" jsonschema:"minimum=1,description=Bytes of one stream's items a Go sender may have unread by this side"`
	// MaxStreamsPerPeer caps the streams open in each direction on one
	// connection.
	MaxStreamsPerPeer int `json:"maxStreamsPerPeer" jsonschema:"minimum=1"`
	// MaxStreamBytesPerPeer caps the bytes of stream items received on one
	// connection that their readers have not taken yet, over all its
	// streams: a producer without a window (not a Go peer), or one that
	// ignores it, cannot make this side hold more. The stream whose item
	// would pass it ends with resource_exhausted, its items are dropped
	// and its producer is told to stop. A Go producer keeps to the window
	// of each stream (StreamWindow items, StreamWindowBytes bytes, at most
	// half of this bound), so one stream read slowly never passes it; keep
	// the streams read slowly at once times the byte window under it.
	MaxStreamBytesPerPeer int64 `json:"maxStreamBytesPerPeer" jsonschema:"minimum=1,description=Bytes of received stream items not yet read per connection before the stream that passes it ends"`
	// StreamIdleTimeout closes a received stream after this long without an
	// item, and a stream nobody reads.
	StreamIdleTimeout time.Duration `json:"streamIdleTimeout"`
	// MaxSubscriptionsPerPeer caps the event subscriptions of one peer.
	MaxSubscriptionsPerPeer int `json:"maxSubscriptionsPerPeer" jsonschema:"minimum=1"`
	// MaxQueuedEventsPerPeer and MaxQueuedEventBytesPerPeer cap the events
	// a peer has emitted (emit tasks) that wait for the local handlers,
	// which run one event at a time in arrival order. Over either cap an
	// emit is refused with resource_exhausted and not delivered.
	MaxQueuedEventsPerPeer     int `json:"maxQueuedEventsPerPeer" jsonschema:"minimum=1,description=Events from one peer waiting for their handlers before more are refused"`
	MaxQueuedEventBytesPerPeer int `json:"maxQueuedEventBytesPerPeer" jsonschema:"minimum=1,description=Bytes of events from one peer waiting for their handlers before more are refused"`
	// MaxCallsPerPeer caps the requests (calls and tasks) served at once
	// for one connection. At the cap the connection is not read until one
	// ends, so a client that sends faster than it reads is held back by
	// TCP. A stream stops counting once its first item may be sent (streams
	// have MaxStreamsPerPeer).
	MaxCallsPerPeer int `json:"maxCallsPerPeer" jsonschema:"minimum=1,description=Requests served at once per connection; at the cap the connection is not read"`
	// MaxQueuedBytesPerPeer bounds the bytes one connection holds for
	// writing (encoded messages with their buffers, until written); over it,
	// whatever sends on the connection waits (an event emitted to the peer
	// is dropped instead, see Events.Emit).
	MaxQueuedBytesPerPeer int `json:"maxQueuedBytesPerPeer" jsonschema:"minimum=65536,description=Bytes queued for writing per connection before senders wait"`
	// MaxQueuedBytes bounds the bytes queued for writing on all the
	// connections of this Netron together. Over it, senders on a
	// connection holding more than 64 KiB wait, so a connection with
	// little queued is still served.
	MaxQueuedBytes int64 `json:"maxQueuedBytes" jsonschema:"minimum=1048576,description=Bytes queued for writing on all connections before senders wait"`
	// WriteStallTimeout closes a connection whose senders wait for room,
	// or whose queued messages a Stop waits to write, while no write to it
	// completes for this long: a peer that does not read.
	WriteStallTimeout time.Duration `json:"writeStallTimeout" jsonschema:"description=Close a connection that accepts no write for this long while senders wait"`
	// IdleTimeout is how long a connection may be silent before this side
	// probes it (a WebSocket ping, or a Netron PING elsewhere). Negative
	// turns probing off.
	IdleTimeout time.Duration `json:"idleTimeout" jsonschema:"description=Probe an accepted connection silent for this long; negative: never"`
	// MaxPeerIDBytes bounds the id a peer announces in its handshake
	// message; a longer one is refused (and the message, whose length is
	// bounded by 4 KiB more than this, is dropped).
	MaxPeerIDBytes int `json:"maxPeerIDBytes" jsonschema:"minimum=36,description=Longest peer id accepted in a handshake message"`
	// PingTimeout is how long a probed connection has to answer before it
	// is closed.
	PingTimeout time.Duration `json:"pingTimeout" jsonschema:"description=Close a probed connection that does not answer within this"`
	// SkipValidation leaves contract validation (package validate) out of
	// the interceptors a titan app installs; it is in by default. A Netron
	// made with New installs no interceptor of its own, so this field does
	// not change it.
	SkipValidation bool `json:"skipValidation,omitempty"`
	// CacheSize is the most results the response cache (package cache) of
	// a titan app keeps.
	CacheSize int `json:"cacheSize" jsonschema:"minimum=1"`
	// CacheBytes is the most memory, in bytes, the results of that cache
	// take together with their keys (an estimate); a result that would
	// take more than a sixteenth of it is not kept.
	CacheBytes int64 `json:"cacheBytes" jsonschema:"minimum=1,description=Memory the response cache's results and keys may take (bytes)"`
	// Reconnect sets how dialled peers reconnect after a connection drops.
	Reconnect ReconnectConfig `json:"reconnect"`
	// HandshakeTimeout bounds the set-up of an accepted connection, from accept: the TLS
	// handshake, and the HTTP request (header) of a WebSocket upgrade or of the HTTP gateway.
	// It also bounds a dial whose context has no deadline (Netron.Dial, a pool's
	// Start): connecting and the server's id message.
	HandshakeTimeout time.Duration `json:"handshakeTimeout" jsonschema:"description=Set-up of an accepted connection (TLS handshake and HTTP header) and of a dial without a deadline"`
	// FrameTimeout bounds a message once its first byte has arrived (on tcp, unix, ws and
	// wss; on HTTP, a request body): it must be complete within FrameTimeout, or keep
	// arriving at FrameMinRate; otherwise the connection is closed.
	FrameTimeout time.Duration `json:"frameTimeout" jsonschema:"description=Time for a started message or HTTP body to complete"`
	// FrameMinRate is the slowest a message that takes longer than FrameTimeout may arrive.
	FrameMinRate RateConfig `json:"frameMinRate"`
	// MaxConnsPerListener caps the connections open at once on one listener (on HTTP and
	// WebSocket, per port: a port that ws:// and http:// share counts its connections
	// together, whatever they speak); one over the cap is closed at once.
	MaxConnsPerListener int `json:"maxConnsPerListener" jsonschema:"minimum=0"`
	// MaxConnsPerAddress caps the connections open at once from one remote IP address (an
	// IPv6 address counts by its /64 network) on a listener (on a shared HTTP and WebSocket
	// port, its connections together); 0, the default, means no cap
	// (loopback tests and clients behind a proxy share an address).
	MaxConnsPerAddress int `json:"maxConnsPerAddress" jsonschema:"minimum=0"`
	// MaxHeaderBytes caps the header of an HTTP request or WebSocket upgrade (431 above).
	MaxHeaderBytes int `json:"maxHeaderBytes" jsonschema:"minimum=0"`
	// HTTPIdleTimeout closes an HTTP keep-alive connection that waits this long for its
	// next request.
	HTTPIdleTimeout time.Duration `json:"httpIdleTimeout"`
	// Compression compresses what this side sends to Go peers (Titan's
	// Go-to-Go extension): messages of Compression.MinSize bytes or more,
	// with zstd or s2, when the peer announced that it decodes that
	// algorithm and the result is smaller. Every Netron decodes both, so
	// each side chooses for what it sends. TypeScript peers get the plain
	// protocol. Off by default: on loopback and fast links it costs more
	// CPU than it saves.
	Compression CompressionConfig `json:"compression"`
	// Pool sets the connections that remote clients (titan.Remote,
	// Netron.NewPool) keep to each instance they call.
	Pool PoolConfig `json:"pool"`
	// Remotes maps a service name to the address of the process serving it,
	// for titan.Remote clients: {calculator: "tcp://127.0.0.1:7070"}.
	Remotes map[string]string `json:"remotes,omitempty" jsonschema:"description=Service name to address for remote clients"`
}

// CompressionConfig is how a Netron compresses what it sends to Go peers.
type CompressionConfig struct {
	// Algorithm is none (the default), s2 (fast, moderate ratio) or zstd
	// (its fastest level: slower, smaller).
	Algorithm string `json:"algorithm" jsonschema:"enum=none,enum=s2,enum=zstd,description=Compression of messages sent to Go peers: none s2 or zstd"`
	// MinSize is the smallest message compressed, in bytes (default 1 KiB).
	MinSize int `json:"minSize" jsonschema:"minimum=0,description=Smallest message compressed in bytes"`
}

// PoolConfig sets the connections a Netron's pools keep to each address:
// shared by every pool that calls a service there, one at first, another
// while each of them carries BusyAt calls or more, up to MaxConns; one
// that was added closes once it has carried no call for IdleTimeout.
type PoolConfig struct {
	MaxConns    int           `json:"maxConns" jsonschema:"minimum=1,description=Connections a pool keeps to one instance at most"`
	BusyAt      int           `json:"busyAt" jsonschema:"minimum=1,description=Calls in flight on every connection to an instance before another is opened"`
	IdleTimeout time.Duration `json:"idleTimeout" jsonschema:"description=Close an added connection after this long without a call"`
}

// RateConfig is an amount of bytes per duration.
type RateConfig struct {
	Bytes int           `json:"bytes" jsonschema:"minimum=0"`
	Per   time.Duration `json:"per"`
}

// ReconnectConfig is the backoff of dialled peers: the delay starts at Min,
// doubles after each failed attempt up to Max, with ±20 % jitter. Disabled
// turns reconnecting off.
type ReconnectConfig struct {
	Disabled bool          `json:"disabled,omitempty"`
	Min      time.Duration `json:"min"`
	Max      time.Duration `json:"max"`
}

// DefaultConfig returns the defaults: 5 s request and task timeouts, 16 MiB
// frames, depth 128, a window of 256 stream items or 4 MiB, 1,000 streams and 1,000
// subscriptions per peer, 60 s stream idle timeout, 256 requests served at
// once per peer, 1,024 events or 4 MiB of events from one peer waiting for
// their handlers, 8 MiB queued for writing per peer and 64 MiB in all, 30 s
// write stall timeout, a probe after 2 min of silence answered within 20 s,
// peer ids of at most 256 bytes,
// validation on, 10,000 cached results, reconnect from 50 ms to 1 s; for
// accepted connections, a 10 s handshake timeout, messages complete within
// 15 s or at 64 KiB per 10 s, 10,000 connections per listener and no cap per
// address, 64 KiB HTTP headers and a 2 min HTTP idle timeout.
func DefaultConfig() Config {
	return Config{
		RequestTimeout:             5 * time.Second,
		TaskTimeout:                5 * time.Second,
		MaxFrameSize:               16 << 20,
		MaxDepth:                   128,
		StreamWindow:               256,
		StreamWindowBytes:          4 << 20,
		MaxStreamsPerPeer:          1000,
		MaxStreamBytesPerPeer:      64 << 20,
		StreamIdleTimeout:          60 * time.Second,
		MaxSubscriptionsPerPeer:    1000,
		MaxQueuedEventsPerPeer:     1024,
		MaxQueuedEventBytesPerPeer: 4 << 20,
		MaxCallsPerPeer:            256,
		MaxQueuedBytesPerPeer:      8 << 20,
		MaxQueuedBytes:             64 << 20,
		WriteStallTimeout:          30 * time.Second,
		IdleTimeout:                2 * time.Minute,
		PingTimeout:                20 * time.Second,
		MaxPeerIDBytes:             256,
		CacheSize:                  10000,
		CacheBytes:                 64 << 20,
		Reconnect:                  ReconnectConfig{Min: 50 * time.Millisecond, Max: time.Second},
		Compression:                CompressionConfig{Algorithm: "none", MinSize: 1024},
		Pool:                       PoolConfig{MaxConns: 4, BusyAt: 128, IdleTimeout: time.Minute},
		HandshakeTimeout:           transport.DefaultHandshakeTimeout,
		FrameTimeout:               transport.DefaultFrameTimeout,
		FrameMinRate:               RateConfig(transport.DefaultFrameMinRate),
		MaxConnsPerListener:        transport.DefaultMaxConns,
		MaxHeaderBytes:             transport.DefaultMaxHeaderBytes,
		HTTPIdleTimeout:            transport.DefaultHTTPIdleTimeout,
	}
}

// withDefaults fills zero fields from DefaultConfig (the zero Config is
// usable) and checks the rest.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig()
	c.RequestTimeout = cmp.Or(c.RequestTimeout, d.RequestTimeout)
	c.TaskTimeout = cmp.Or(c.TaskTimeout, d.TaskTimeout)
	c.MaxFrameSize = cmp.Or(c.MaxFrameSize, d.MaxFrameSize)
	c.MaxDepth = cmp.Or(c.MaxDepth, d.MaxDepth)
	c.StreamWindow = cmp.Or(c.StreamWindow, d.StreamWindow)
	c.StreamWindowBytes = cmp.Or(c.StreamWindowBytes, d.StreamWindowBytes)
	c.MaxStreamsPerPeer = cmp.Or(c.MaxStreamsPerPeer, d.MaxStreamsPerPeer)
	c.StreamIdleTimeout = cmp.Or(c.StreamIdleTimeout, d.StreamIdleTimeout)
	c.MaxSubscriptionsPerPeer = cmp.Or(c.MaxSubscriptionsPerPeer, d.MaxSubscriptionsPerPeer)
	c.MaxStreamBytesPerPeer = cmp.Or(c.MaxStreamBytesPerPeer, d.MaxStreamBytesPerPeer)
	c.MaxCallsPerPeer = cmp.Or(c.MaxCallsPerPeer, d.MaxCallsPerPeer)
	c.MaxQueuedEventsPerPeer = cmp.Or(c.MaxQueuedEventsPerPeer, d.MaxQueuedEventsPerPeer)
	c.MaxQueuedEventBytesPerPeer = cmp.Or(c.MaxQueuedEventBytesPerPeer, d.MaxQueuedEventBytesPerPeer)
	c.MaxQueuedBytesPerPeer = cmp.Or(c.MaxQueuedBytesPerPeer, d.MaxQueuedBytesPerPeer)
	c.MaxQueuedBytes = cmp.Or(c.MaxQueuedBytes, d.MaxQueuedBytes)
	c.WriteStallTimeout = cmp.Or(c.WriteStallTimeout, d.WriteStallTimeout)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, d.IdleTimeout)
	c.PingTimeout = cmp.Or(c.PingTimeout, d.PingTimeout)
	c.MaxPeerIDBytes = cmp.Or(c.MaxPeerIDBytes, d.MaxPeerIDBytes)
	c.CacheSize = cmp.Or(c.CacheSize, d.CacheSize)
	c.CacheBytes = cmp.Or(c.CacheBytes, d.CacheBytes)
	c.Reconnect.Min = cmp.Or(c.Reconnect.Min, d.Reconnect.Min)
	c.Reconnect.Max = cmp.Or(c.Reconnect.Max, d.Reconnect.Max)
	c.Compression.Algorithm = cmp.Or(c.Compression.Algorithm, d.Compression.Algorithm)
	c.Compression.MinSize = cmp.Or(c.Compression.MinSize, d.Compression.MinSize)
	c.Pool.MaxConns = cmp.Or(c.Pool.MaxConns, d.Pool.MaxConns)
	c.Pool.BusyAt = cmp.Or(c.Pool.BusyAt, d.Pool.BusyAt)
	c.Pool.IdleTimeout = cmp.Or(c.Pool.IdleTimeout, d.Pool.IdleTimeout)
	c.HandshakeTimeout = cmp.Or(c.HandshakeTimeout, d.HandshakeTimeout)
	c.FrameTimeout = cmp.Or(c.FrameTimeout, d.FrameTimeout)
	c.FrameMinRate = cmp.Or(c.FrameMinRate, d.FrameMinRate)
	c.MaxConnsPerListener = cmp.Or(c.MaxConnsPerListener, d.MaxConnsPerListener)
	c.MaxHeaderBytes = cmp.Or(c.MaxHeaderBytes, d.MaxHeaderBytes)
	c.HTTPIdleTimeout = cmp.Or(c.HTTPIdleTimeout, d.HTTPIdleTimeout)
	if err := c.checkValues(d); err != nil {
		return c, err
	}
	return c, nil
}

// keyError is a bad value of one key of Config, in the key's terms. An
// app's Netron adds where the value came from (newFromConfig).
type keyError struct {
	key     string // under netron: "requestTimeout", "pool.maxConns"
	problem string // what follows the key: " is -5s; want a positive duration (0 for the default, 5s)"
}

func (e *keyError) Error() string { return "netron." + e.key + e.problem }

// positive is the keyError of a negative value v of key, whose default
// is def.
func positive(key string, v, def any, what string) *keyError {
	return &keyError{key, fmt.Sprintf(" is %v; want %s (0 for the default, %v)", v, what, def)}
}

// checkValues refuses what no default makes usable: negative limits and
// timeouts (IdleTimeout excepted: negative turns probing off), a
// frameMinRate half set, an unknown compression algorithm, a reconnect
// range upside down. d is DefaultConfig().
func (c Config) checkValues(d Config) error {
	for _, k := range []struct {
		key    string
		v, def time.Duration
	}{
		{"requestTimeout", c.RequestTimeout, d.RequestTimeout}, {"taskTimeout", c.TaskTimeout, d.TaskTimeout},
		{"streamIdleTimeout", c.StreamIdleTimeout, d.StreamIdleTimeout}, {"writeStallTimeout", c.WriteStallTimeout, d.WriteStallTimeout},
		{"pingTimeout", c.PingTimeout, d.PingTimeout}, {"reconnect.min", c.Reconnect.Min, d.Reconnect.Min},
		{"reconnect.max", c.Reconnect.Max, d.Reconnect.Max}, {"pool.idleTimeout", c.Pool.IdleTimeout, d.Pool.IdleTimeout},
		{"handshakeTimeout", c.HandshakeTimeout, d.HandshakeTimeout}, {"frameTimeout", c.FrameTimeout, d.FrameTimeout},
		{"httpIdleTimeout", c.HTTPIdleTimeout, d.HTTPIdleTimeout}, {"frameMinRate.per", c.FrameMinRate.Per, d.FrameMinRate.Per},
	} {
		if k.v < 0 {
			return positive(k.key, k.v, k.def, "a positive duration")
		}
	}
	for _, k := range []struct {
		key    string
		v, def int64
	}{
		{"maxFrameSize", int64(c.MaxFrameSize), int64(d.MaxFrameSize)}, {"maxDepth", int64(c.MaxDepth), int64(d.MaxDepth)},
		{"streamWindow", int64(c.StreamWindow), int64(d.StreamWindow)}, {"streamWindowBytes", c.StreamWindowBytes, d.StreamWindowBytes},
		{"maxStreamsPerPeer", int64(c.MaxStreamsPerPeer), int64(d.MaxStreamsPerPeer)},
		{"maxStreamBytesPerPeer", c.MaxStreamBytesPerPeer, d.MaxStreamBytesPerPeer},
		{"maxSubscriptionsPerPeer", int64(c.MaxSubscriptionsPerPeer), int64(d.MaxSubscriptionsPerPeer)},
		{"maxCallsPerPeer", int64(c.MaxCallsPerPeer), int64(d.MaxCallsPerPeer)},
		{"maxQueuedEventsPerPeer", int64(c.MaxQueuedEventsPerPeer), int64(d.MaxQueuedEventsPerPeer)},
		{"maxQueuedEventBytesPerPeer", int64(c.MaxQueuedEventBytesPerPeer), int64(d.MaxQueuedEventBytesPerPeer)},
		{"maxQueuedBytesPerPeer", int64(c.MaxQueuedBytesPerPeer), int64(d.MaxQueuedBytesPerPeer)},
		{"maxQueuedBytes", c.MaxQueuedBytes, d.MaxQueuedBytes}, {"maxPeerIDBytes", int64(c.MaxPeerIDBytes), int64(d.MaxPeerIDBytes)},
		{"cacheSize", int64(c.CacheSize), int64(d.CacheSize)}, {"cacheBytes", c.CacheBytes, d.CacheBytes},
		{"pool.maxConns", int64(c.Pool.MaxConns), int64(d.Pool.MaxConns)}, {"pool.busyAt", int64(c.Pool.BusyAt), int64(d.Pool.BusyAt)},
		{"compression.minSize", int64(c.Compression.MinSize), int64(d.Compression.MinSize)},
		{"maxConnsPerListener", int64(c.MaxConnsPerListener), int64(d.MaxConnsPerListener)},
		{"maxConnsPerAddress", int64(c.MaxConnsPerAddress), int64(d.MaxConnsPerAddress)},
		{"maxHeaderBytes", int64(c.MaxHeaderBytes), int64(d.MaxHeaderBytes)},
		{"frameMinRate.bytes", int64(c.FrameMinRate.Bytes), int64(d.FrameMinRate.Bytes)},
	} {
		if k.v < 0 {
			return positive(k.key, k.v, k.def, "1 or more")
		}
	}
	if c.StreamWindow > maxPeerWindow {
		// A peer takes no larger window (negotiated), and this side grants
		// only after half of its own: a larger one would stall its streams.
		return &keyError{"streamWindow", fmt.Sprintf(" is %d; want at most %d items", c.StreamWindow, maxPeerWindow)}
	}
	if err := checkBounds("", reflect.ValueOf(c), reflect.ValueOf(d)); err != nil {
		return err
	}
	if _, err := compress.Parse(c.Compression.Algorithm); err != nil {
		return &keyError{"compression.algorithm", ": " + err.Error()}
	}
	if (c.FrameMinRate.Bytes == 0) != (c.FrameMinRate.Per == 0) {
		return &keyError{"frameMinRate", fmt.Sprintf(" is %d bytes per %v; give both bytes and per, or neither (default %v)",
			c.FrameMinRate.Bytes, c.FrameMinRate.Per, transport.DefaultFrameMinRate)}
	}
	if c.Reconnect.Max < c.Reconnect.Min {
		return &keyError{"reconnect.max", fmt.Sprintf(" is %v, below reconnect.min %v", c.Reconnect.Max, c.Reconnect.Min)}
	}
	return nil
}

// checkBounds refuses an integer of c outside the minimum and maximum its
// jsonschema tag gives (the bounds a configuration file is checked
// against), so that a Config built in Go meets them too: 100-byte frames
// would fail every handshake with a bare EOF. prefix is the keys' path
// ("pool."); d holds the defaults, named in the message.
func checkBounds(prefix string, c, d reflect.Value) *keyError {
	t := c.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		v := c.Field(i)
		switch v.Kind() {
		case reflect.Struct:
			if err := checkBounds(prefix+name+".", v, d.Field(i)); err != nil {
				return err
			}
			continue
		case reflect.Int, reflect.Int64:
			if f.Type == reflect.TypeFor[time.Duration]() {
				continue
			}
		default:
			continue
		}
		for kw := range strings.SplitSeq(f.Tag.Get("jsonschema"), ",") {
			bound, val, ok := strings.Cut(kw, "=")
			if !ok || (bound != "minimum" && bound != "maximum") {
				continue
			}
			b, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				continue
			}
			if x := v.Int(); (bound == "minimum" && x < b) || (bound == "maximum" && x > b) {
				want := "at least"
				if bound == "maximum" {
					want = "at most"
				}
				return &keyError{prefix + name, fmt.Sprintf(" is %d; want %s %d (0 for the default, %d)", x, want, b, d.Field(i).Int())}
			}
		}
	}
	return nil
}

// ListenOptions returns the transport options the Netron listens with on scheme: its frame
// size, its TLS configuration for wss and https, its logger, and the connection limits of its
// [Config] (handshake and frame timeouts, connection caps, HTTP header size and idle
// timeout), and the Netron's own scope of shared ports ([transport.Ports]: its ws:// and
// http:// listeners on one address share one server, no other Netron's do). Gateways started
// by [Netron.Listen] take their limits from it.
func (n *Netron) ListenOptions(scheme string) transport.Options {
	c := n.cfg
	return transport.Options{
		MaxFrameSize:     c.MaxFrameSize,
		TLS:              n.tlsFor(scheme, true),
		ServerTLS:        n.clientTLS,
		HandshakeTimeout: c.HandshakeTimeout,
		FrameTimeout:     c.FrameTimeout,
		FrameMinRate:     transport.Rate(c.FrameMinRate),
		MaxConns:         c.MaxConnsPerListener,
		MaxConnsPerIP:    c.MaxConnsPerAddress,
		MaxHeaderBytes:   c.MaxHeaderBytes,
		HTTPIdleTimeout:  c.HTTPIdleTimeout,
		Logger:           n.log,
		Ports:            &n.ports,
		CloseTimeout:     n.closeTimeout,
	}
}
