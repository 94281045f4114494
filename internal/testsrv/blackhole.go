package testsrv

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// BlackHole relays TCP connections to a real server until Swallow makes
// it swallow what it relays, as a network that stops carrying packets:
// the server then never answers, and the client sees nothing close.
type BlackHole struct {
	l         net.Listener
	swallowed atomic.Bool
	lost      atomic.Int64 // the bytes swallowed
	mu        sync.Mutex
	conns     []net.Conn
	wg        sync.WaitGroup
}

// RelayTo starts a BlackHole in front of the server at hostport, closed
// when the test ends.
func RelayTo(t testing.TB, hostport string) *BlackHole {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &BlackHole{l: l}
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
			b.wg.Add(2) // under mu, before the cleanup's Wait can run
			b.mu.Unlock()
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

// Addr is the host:port to dial the server through the relay.
func (b *BlackHole) Addr() string { return b.l.Addr().String() }

// Swallow makes the relay carry nothing more, either way.
func (b *BlackHole) Swallow() { b.swallowed.Store(true) }

// Lost is how many bytes the relay has swallowed.
func (b *BlackHole) Lost() int64 { return b.lost.Load() }

func (b *BlackHole) pipe(dst, src net.Conn) {
	defer b.wg.Done()
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		if b.swallowed.Load() {
			b.lost.Add(int64(n))
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}
