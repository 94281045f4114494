package testsrv

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// SilentServer is a TCP server on 127.0.0.1 that accepts connections and
// never answers, as a server that hangs does: it reads what its clients
// send until they close their end, and counts the connections. Start one
// with [StartSilent]; it stops when the test ends.
type SilentServer struct {
	l        net.Listener
	accepted atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closed   bool // set by the cleanup: a connection accepted since is closed at once
}

// StartSilent starts a [SilentServer] that stops, closing every
// connection it holds, when the test ends.
func StartSilent(t testing.TB) *SilentServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SilentServer{l: l, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			if s.closed { // accepted as the cleanup ran, after it closed the others
				s.mu.Unlock()
				c.Close()
				return
			}
			s.conns[c] = struct{}{}
			s.wg.Add(1)
			s.mu.Unlock()
			go func() { // read until the client closes its end
				defer s.wg.Done()
				_, _ = io.Copy(io.Discard, c)
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// Addr is the server's host:port.
func (s *SilentServer) Addr() string { return s.l.Addr().String() }

// Accepted is how many connections the server has accepted.
func (s *SilentServer) Accepted() int64 { return s.accepted.Load() }

// Open is how many of them the clients have not closed yet.
func (s *SilentServer) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// SilentAddr starts a [SilentServer] and returns its address.
func SilentAddr(t testing.TB) string {
	t.Helper()
	return StartSilent(t).Addr()
}

// RefusedAddr returns an address of 127.0.0.1 where nothing listens (a
// port that was free a moment ago): a dial is refused.
func RefusedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
