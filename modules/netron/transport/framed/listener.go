package framed

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/internal/limit"
	"github.com/titanframework/titan/modules/netron/transport/internal/tlsrecord"
)

// Listener is a [transport.Listener] over a [net.Listener]; it yields [*Conn] values. Accept
// is safe for concurrent use, each call with its own context.
//
// The first Accept starts one goroutine that accepts from the wrapped listener and hands each
// connection to a waiting Accept; it holds at most one connection nobody has asked for yet
// (closed if the listener closes first) and stops when the listener is closed. A connection
// over Config.Limits.MaxConns or MaxConnsPerIP is closed as soon as it is accepted. With
// Config.TLS, each connection runs its TLS handshake in a goroutine of its own, bounded by
// Limits.HandshakeTimeout, before it is handed over.
type Listener struct {
	nl    net.Listener
	cfg   Config
	addr  string
	conns *limit.Conns

	results chan accepted
	done    chan struct{}
	ctx     context.Context // ends with done: bounds TLS handshakes
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	started bool
	closed  bool
}

type accepted struct {
	nc  net.Conn
	ip  netip.Addr // counted in conns
	err error
}

// NewListener wraps nl. The returned Listener owns nl: closing it closes nl. NewListener starts
// no goroutines.
func NewListener(nl net.Listener, cfg Config) *Listener {
	addr := cfg.format(nl.Addr())
	l := &Listener{
		nl:      nl,
		cfg:     cfg,
		addr:    addr,
		conns:   limit.NewConns(cfg.Limits.MaxConns, cfg.Limits.MaxConnsPerIP, cfg.Logger, addr),
		results: make(chan accepted),
		done:    make(chan struct{}),
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l
}

// Addr returns the bound address as a URL.
func (l *Listener) Addr() string { return l.addr }

// Accept waits for the next connection, for ctx to end (the error then matches ctx.Err()), or
// for the listener to close (the error then matches [net.ErrClosed]). Errors of the wrapped
// listener other than closing, such as running out of file descriptors, are returned (wrapped)
// and accepting goes on after a pause of 5 ms, doubling up to 1 s while the errors last.
func (l *Listener) Accept(ctx context.Context) (transport.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("framed: accept on %s: %w", l.addr, err)
	}
	if !l.start() {
		return nil, l.closedErr()
	}
	select {
	case r := <-l.results:
		if r.err != nil {
			return nil, fmt.Errorf("framed: accept on %s: %w", l.addr, r.err)
		}
		c := NewConn(r.nc, l.cfg)
		if l.conns != nil {
			ip := r.ip
			c.onClose = func() { l.conns.Release(ip) }
		}
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("framed: accept on %s: %w", l.addr, ctx.Err())
	case <-l.done:
		return nil, l.closedErr()
	}
}

// start starts the accepting goroutine unless it runs already; it reports false once the
// listener is closed.
func (l *Listener) start() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	if !l.started {
		l.started = true
		l.wg.Add(1)
		go l.acceptLoop()
	}
	return true
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var backoff time.Duration
	for {
		nc, err := l.nl.Accept()
		if err != nil && errors.Is(err, net.ErrClosed) {
			_, _ = l.shut()
			return
		}
		if err == nil {
			backoff = 0
			ip := limit.IP(nc.RemoteAddr())
			if !l.conns.Acquire(ip) {
				_ = nc.Close()
				continue
			}
			a := accepted{nc: nc, ip: ip}
			if l.cfg.TLS != nil {
				l.wg.Add(1)
				go l.handshake(a)
				continue
			}
			if !l.hand(a) {
				return
			}
			continue
		}
		if !l.hand(accepted{err: err}) {
			return
		}
		// A failing listener (out of file descriptors, say) is retried after a pause that
		// doubles from 5 ms to 1 s, as net/http does, rather than in a hot loop.
		backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-l.done:
			t.Stop()
			return
		}
	}
}

// hand gives a to a waiting Accept; it reports false, closing a's connection, when the
// listener closes first.
func (l *Listener) hand(a accepted) bool {
	select {
	case l.results <- a:
		return true
	case <-l.done:
		if a.nc != nil {
			_ = a.nc.Close()
			l.conns.Release(a.ip)
		}
		return false
	}
}

// handshake runs the TLS handshake of a's connection within the handshake timeout and hands
// the connection over, or closes it.
func (l *Listener) handshake(a accepted) {
	defer l.wg.Done()
	// The socket under TLS follows the records, for the frame clock of the Conn (wireClock).
	tc := tls.Server(tlsrecord.New(a.nc), l.cfg.TLS)
	ctx, cancel := l.ctx, context.CancelFunc(func() {})
	if d := l.cfg.Limits.HandshakeTimeout; d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
	}
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil && l.ctx.Err() == nil {
			err = fmt.Errorf("not completed within %v (HandshakeTimeout)", l.cfg.Limits.HandshakeTimeout)
		}
		if l.cfg.Logger != nil {
			l.cfg.Logger.Debug("TLS handshake failed; connection closed", "addr", l.addr,
				"remote", l.cfg.format(a.nc.RemoteAddr()), "error", err)
		}
		_ = tc.Close()
		l.conns.Release(a.ip)
		return
	}
	a.nc = tc
	l.hand(a)
}

func (l *Listener) closedErr() error {
	return fmt.Errorf("framed: accept on %s: %w", l.addr, net.ErrClosed)
}

// shut closes the wrapped listener once; first reports whether this call did it.
func (l *Listener) shut() (first bool, err error) {
	l.mu.Lock()
	first = !l.closed
	l.closed = true
	l.mu.Unlock()
	if !first {
		return false, nil
	}
	close(l.done)
	l.cancel()
	return true, l.nl.Close()
}

// Close stops listening, unblocks pending Accept calls and waits for the accepting goroutine
// (and TLS handshakes in progress, which it cuts short) to end. Accepted connections stay open. The first call returns the wrapped listener's Close
// error; later calls return nil.
func (l *Listener) Close() error {
	_, err := l.shut()
	l.wg.Wait()
	return err
}

var _ transport.Listener = (*Listener)(nil)
