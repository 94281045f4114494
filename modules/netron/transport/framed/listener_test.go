package framed_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport/framed"
)

// scriptedListener returns its scripted results in turn, then blocks until closed.
type scriptedListener struct {
	script chan accepted
	done   chan struct{}
}

type accepted struct {
	c   net.Conn
	err error
}

func (l *scriptedListener) Accept() (net.Conn, error) {
	select {
	case r := <-l.script:
		return r.c, r.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *scriptedListener) Close() error {
	close(l.done)
	return nil
}

func (l *scriptedListener) Addr() net.Addr { return fakeAddr("listener") }

func TestListenerDeliversErrorsAndGoesOn(t *testing.T) {
	sl := &scriptedListener{script: make(chan accepted, 2), done: make(chan struct{})}
	a, b := net.Pipe()
	defer b.Close()
	sl.script <- accepted{err: errors.New("too many open files")}
	sl.script <- accepted{c: a}
	l := framed.NewListener(sl, framed.Config{})
	if l.Addr() != "fake://listener" {
		t.Errorf("Addr() = %q", l.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.Accept(ctx); err == nil || err.Error() != "framed: accept on fake://listener: too many open files" {
		t.Fatalf("first Accept = %v, want the listener's error", err)
	}
	c, err := l.Accept(ctx)
	if err != nil {
		t.Fatalf("Accept after an error = %v, want the next connection", err)
	}
	_ = c.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(ctx); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
	}
}

// TestListenerClosesUnclaimedConn checks that a connection accepted while nobody waits is
// closed with the listener rather than leaked.
func TestListenerClosesUnclaimedConn(t *testing.T) {
	sl := &scriptedListener{script: make(chan accepted, 2), done: make(chan struct{})}
	a1, b1 := net.Pipe()
	a2, b2 := net.Pipe()
	defer b1.Close()
	defer b2.Close()
	sl.script <- accepted{c: a1}
	sl.script <- accepted{c: a2}
	l := framed.NewListener(sl, framed.Config{})
	c, err := l.Accept(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Wait until the loop holds a2 (the script is empty), then close.
	for deadline := time.Now().Add(5 * time.Second); len(sl.script) > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the accept loop did not take the second connection")
		}
		time.Sleep(time.Millisecond)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_ = b2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := b2.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("peer of the unclaimed conn: Read = %v, want the end of the stream", err)
	}
}
