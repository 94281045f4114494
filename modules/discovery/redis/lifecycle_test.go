package redis_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
)

// silentServer accepts TCP connections and never answers: a registry
// that hangs. It counts the connections and reports whether the
// clients closed them all.
type silentServer struct {
	l        net.Listener
	accepted atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	open     int
}

func newSilentServer(t *testing.T) *silentServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentServer{l: l}
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
			s.open++
			s.mu.Unlock()
			s.wg.Add(1)
			go func() { // read until the client closes its end
				defer s.wg.Done()
				io.Copy(io.Discard, c)
				c.Close()
				s.mu.Lock()
				s.open--
				s.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); s.wg.Wait() })
	return s
}

func (s *silentServer) url() string { return "redis://" + s.l.Addr().String() }

func (s *silentServer) openConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// Building an app connects to no registry: the registry opens when the
// app starts, within the start context, and a start that fails there
// leaves no connection open and stops cleanly.
func TestRegistryOpensOnStart(t *testing.T) {
	t.Parallel()
	srv := newSilentServer(t)
	app := titan.New(testsrv.Settings("discovery.backend=redis", "discovery.url="+srv.url()))
	built := time.Now()
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(built); d > 2*time.Second {
		t.Errorf("building the app took %v", d)
	}
	time.Sleep(100 * time.Millisecond)
	if n := srv.accepted.Load(); n != 0 {
		t.Fatalf("building the app opened %d connection(s) to the registry", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := app.Start(ctx)
	if d := time.Since(began); d > 3500*time.Millisecond {
		t.Errorf("a start whose context expires took %v", d)
	}
	if err == nil {
		t.Fatal("the app started against a registry that never answers")
	}
	for _, want := range []string{`discovery.backend "redis"`, srv.l.Addr().String(), "set discovery.required: false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start error %q lacks %q", err, want)
		}
	}
	if srv.accepted.Load() == 0 {
		t.Error("the start did not try the registry")
	}
	if err := app.Stop(context.Background()); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop after a failed start: %v", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for srv.openConns() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.openConns(); n > 0 {
		t.Errorf("%d connection(s) to the registry are still open after the failed start", n)
	}
}
