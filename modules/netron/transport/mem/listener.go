package mem

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/titanframework/titan/modules/netron/transport"
)

// backlogSize is how many dialed connections may wait for Accept before Dial blocks.
const backlogSize = 128

// listener is a named in-process listener.
type listener struct {
	name    string
	addr    string
	max     int
	backlog chan *conn
	done    chan struct{}
	dials   atomic.Uint64 // numbers the dialing ends: mem://name#1, #2, ...

	// mu is held shared by Dial while it may add to backlog, and exclusively by Close while it
	// drains backlog, so no dialed connection is left behind unaccepted and open.
	mu        sync.RWMutex
	closeOnce sync.Once
}

func newListener(name string, max int) *listener {
	return &listener{
		name:    name,
		addr:    "mem://" + name,
		max:     max,
		backlog: make(chan *conn, backlogSize),
		done:    make(chan struct{}),
	}
}

// Addr returns mem://name.
func (l *listener) Addr() string { return l.addr }

// Accept returns the next dialed connection.
func (l *listener) Accept(ctx context.Context) (transport.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mem: accept on %s: %w", l.addr, err)
	}
	select {
	case <-l.done:
		return nil, closedErr("accept on", l.addr)
	default:
	}
	select {
	case c := <-l.backlog:
		return c, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("mem: accept on %s: %w", l.addr, ctx.Err())
	case <-l.done:
		return nil, closedErr("accept on", l.addr)
	}
}

// connect makes a connection pair and queues the server side for Accept.
func (l *listener) connect(ctx context.Context, max int) (transport.Conn, error) {
	clientAddr := l.addr + "#" + strconv.FormatUint(l.dials.Add(1), 10)
	client, server := newPair(clientAddr, l.addr, max, l.max)
	l.mu.RLock()
	defer l.mu.RUnlock()
	select {
	case <-l.done:
		return nil, fmt.Errorf("mem: dial %s: the listener is closed", l.addr)
	default:
	}
	select {
	case l.backlog <- server:
		return client, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("mem: dial %s: %w", l.addr, ctx.Err())
	case <-l.done:
		return nil, fmt.Errorf("mem: dial %s: the listener is closed", l.addr)
	}
}

// Close unregisters the name, unblocks Accept and closes connections dialed but not accepted.
func (l *listener) Close() error {
	l.closeOnce.Do(func() {
		namespace.Lock()
		if namespace.byName[l.name] == l {
			delete(namespace.byName, l.name)
		}
		namespace.Unlock()
		close(l.done)
		l.mu.Lock()
		defer l.mu.Unlock()
		for {
			select {
			case c := <-l.backlog:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return nil
}

var _ transport.Listener = (*listener)(nil)
