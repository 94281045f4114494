package mem

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/internal/noquery"
)

func init() { transport.Register(New()) }

// Transport is the in-process transport. Every Transport value shares the process-wide
// namespace of listeners. The zero value is ready to use and safe for concurrent use.
type Transport struct{}

// New returns the in-process transport; it suits fx.Provide(transport.AsTransport(mem.New)).
func New() *Transport { return &Transport{} }

// Name returns "mem".
func (*Transport) Name() string { return "mem" }

// Schemes returns ["mem"].
func (*Transport) Schemes() []string { return []string{"mem"} }

// Capabilities reports a streaming, bidirectional, binary, reconnectable transport with 16 MiB
// frames by default.
func (*Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{
		Streaming: true, Bidirectional: true, Binary: true, Reconnection: true,
		MaxFrameSize: transport.DefaultMaxFrameSize,
	}
}

// namespace holds the listeners of the process by name.
var namespace = struct {
	sync.Mutex
	byName map[string]*listener
	auto   uint64 // last number used for an automatic name
}{byName: map[string]*listener{}}

// Listen registers a listener under the name of u, or under a fresh unique name when u names
// none. It fails when a listener of that name exists.
func (*Transport) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	name, err := nameOf(u)
	if err != nil {
		return nil, err
	}
	if err := check(o); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: listen %s: %w", u.Redacted(), err)
	}
	namespace.Lock()
	defer namespace.Unlock()
	if name == "" {
		for {
			namespace.auto++
			name = "auto-" + strconv.FormatUint(namespace.auto, 10)
			if namespace.byName[name] == nil {
				break
			}
		}
	} else if namespace.byName[name] != nil {
		return nil, fmt.Errorf("mem: listen mem://%s: a mem listener of that name exists already", name)
	}
	l := newListener(name, o.FrameLimit())
	namespace.byName[name] = l
	return l, nil
}

// Dial connects to the listener named by u. It waits while the listener's backlog of
// connections not yet accepted is full, until ctx ends.
func (*Transport) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	name, err := nameOf(u)
	if err != nil {
		return nil, err
	}
	if err := check(o); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("mem: dial %q: the address names no listener", u.Redacted())
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: dial mem://%s: %w", name, err)
	}
	namespace.Lock()
	l := namespace.byName[name]
	namespace.Unlock()
	if l == nil {
		return nil, fmt.Errorf("mem: dial mem://%s: no mem listener named %q", name, name)
	}
	return l.connect(ctx, o.FrameLimit())
}

func check(o transport.Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.TLS != nil {
		return errors.New("mem: Options.TLS is not supported by the in-process transport")
	}
	return nil
}

// nameOf returns the listener name of mem://name or mem:name.
func nameOf(u *url.URL) (string, error) {
	if u == nil {
		return "", errors.New("mem: nil address")
	}
	name := u.Host
	if u.Opaque != "" {
		name = u.Opaque
	}
	if u.Scheme != "mem" || u.User != nil || (u.Path != "" && u.Path != "/") || (u.Opaque != "" && u.Host != "") {
		return "", fmt.Errorf("mem: address %q: want mem://name", u.Redacted())
	}
	if err := noquery.Check("mem", u); err != nil {
		return "", err
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return "", fmt.Errorf("mem: address %q: name %q has %q; use letters, digits and -._~", u.Redacted(), name, c)
		}
	}
	return name, nil
}

// closedErr returns an error for op on a closed connection or listener at addr.
func closedErr(op, addr string) error {
	return fmt.Errorf("mem: %s %s: %w", op, addr, net.ErrClosed)
}

var _ transport.Transport = (*Transport)(nil)
