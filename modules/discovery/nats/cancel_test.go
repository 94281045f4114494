package nats_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
)

// blackHole relays TCP connections to a real server until it is made to
// swallow what it relays, as a network that stops carrying packets: the
// server then never answers, and the client sees nothing close.
type blackHole struct {
	l         net.Listener
	swallowed atomic.Bool
	mu        sync.Mutex
	conns     []net.Conn
	wg        sync.WaitGroup
}

// relayTo starts a blackHole in front of the server at hostport, closed
// when the test ends.
func relayTo(t *testing.T, hostport string) *blackHole {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackHole{l: l}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", hostport)
			if err != nil {
				c.Close()
				continue
			}
			b.mu.Lock()
			b.conns = append(b.conns, c, s)
			b.mu.Unlock()
			b.wg.Add(2)
			go b.pipe(s, c)
			go b.pipe(c, s)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		b.mu.Lock()
		for _, c := range b.conns {
			c.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

func (b *blackHole) pipe(dst, src net.Conn) {
	defer b.wg.Done()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if b.swallowed.Load() {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// A heartbeat cancelled while the NATS server does not answer (an app
// stopping) ends at once: the write that found no answer does not go on
// looking the bucket up on a budget of its own, which would hold the stop
// for that budget.
func TestCancelledRegisterEndsAtOnce(t *testing.T) {
	t.Parallel()
	r, in := registeredThenSilent(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Register(ctx, in) }()
	cancel() // before the write, or while it waits: nothing answers it
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Register cancelled: %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Register went on for over a second after its context was cancelled")
	}
}

// registeredThenSilent returns a registry that has registered the
// instance it returns through a relay to the NATS server, which then
// carries nothing more either way: a server that stopped answering.
func registeredThenSilent(t *testing.T) (*dnats.Registry, discovery.Instance) {
	t.Helper()
	u, err := url.Parse(testsrv.NATS(t))
	if err != nil {
		t.Fatal(err)
	}
	hole := relayTo(t, u.Host)
	r := open(t, "nats://"+hole.l.Addr().String(), prefix(t, u.String()), time.Minute, nil)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	hole.swallowed.Store(true)
	return r, in
}
