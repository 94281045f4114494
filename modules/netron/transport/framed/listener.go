package framed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
)

// Listener is a [transport.Listener] over a [net.Listener]; it yields [*Conn] values. Accept
// is safe for concurrent use, each call with its own context.
//
// The first Accept starts one goroutine that accepts from the wrapped listener and hands each
// connection to a waiting Accept; it holds at most one connection nobody has asked for yet
// (closed if the listener closes first) and stops when the listener is closed.
type Listener struct {
	nl   net.Listener
	cfg  Config
	addr string

	results chan accepted
	done    chan struct{}
	wg      sync.WaitGroup

	mu      sync.Mutex
	started bool
	closed  bool
}

type accepted struct {
	nc  net.Conn
	err error
}

// NewListener wraps nl. The returned Listener owns nl: closing it closes nl. NewListener starts
// no goroutines.
func NewListener(nl net.Listener, cfg Config) *Listener {
	return &Listener{
		nl:      nl,
		cfg:     cfg,
		addr:    cfg.format(nl.Addr()),
		results: make(chan accepted),
		done:    make(chan struct{}),
	}
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
		return NewConn(r.nc, l.cfg), nil
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
		select {
		case l.results <- accepted{nc, err}:
		case <-l.done:
			if nc != nil {
				_ = nc.Close()
			}
			return
		}
		if err == nil {
			backoff = 0
			continue
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
	return true, l.nl.Close()
}

// Close stops listening, unblocks pending Accept calls and waits for the accepting goroutine to
// end. Accepted connections stay open. The first call returns the wrapped listener's Close
// error; later calls return nil.
func (l *Listener) Close() error {
	_, err := l.shut()
	l.wg.Wait()
	return err
}

var _ transport.Listener = (*Listener)(nil)
