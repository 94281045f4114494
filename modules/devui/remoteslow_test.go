package devui_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/titantest"
)

// stallProxy forwards TCP connections to an address, and holds what the
// clients send while it is stalled: a peer whose answers are late.
type stallProxy struct {
	addr string

	mu   sync.Mutex
	gate chan struct{} // while stalled: closed when released
	held chan struct{} // while stalled: closed when it first holds something
	once *sync.Once
}

func startStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		_ = ln.Close()
		p.release()
		connsMu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			connsMu.Lock()
			conns = append(conns, c, s)
			connsMu.Unlock()
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, s)
				_ = c.Close()
			}()
			go func() {
				defer wg.Done()
				defer s.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					p.wait()
					if _, err := s.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

// stall holds what the clients send from now on, and returns a channel
// closed once it holds something.
func (p *stallProxy) stall() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate, p.held, p.once = make(chan struct{}), make(chan struct{}), new(sync.Once)
	return p.held
}

// release sends on what it holds.
func (p *stallProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate != nil {
		close(p.gate)
		p.gate = nil
	}
}

func (p *stallProxy) wait() {
	p.mu.Lock()
	gate, held, once := p.gate, p.held, p.once
	p.mu.Unlock()
	if gate != nil {
		once.Do(func() { close(held) })
		<-gate
	}
}

// A remote app slow to answer a subscription to one event name holds up
// no other subscription of the event monitor's: one to a name subscribed
// to already, and the end of one, go on without the peer.
func TestRemoteSlowSubscriptionBlocksNoOther(t *testing.T) {
	t.Parallel()
	app := titanApp(t, "netron.listen=tcp://127.0.0.1:0")
	addr := app.Addr(t, "tcp")
	px := startStallProxy(t, strings.TrimPrefix(addr, "tcp://"))
	b := devui.Remote(titantest.Dial(t, "tcp://"+px.addr), addr)
	ctx := context.Background()
	nop := func(context.Context, netron.Event) {}
	end1, err := b.Subscribe(ctx, "calc.done", nop)
	if err != nil {
		t.Fatal(err)
	}
	defer end1()
	end2, err := b.Subscribe(ctx, "calc.done", nop)
	if err != nil {
		t.Fatal(err)
	}

	held := px.stall()
	slow := make(chan error, 1)
	go func() {
		end, err := b.Subscribe(ctx, "calc.other", nop)
		if err == nil {
			end()
		}
		slow <- err
	}()
	select {
	case <-held: // the subscription to calc.other waits for the peer
	case <-time.After(5 * time.Second):
		t.Fatal("the subscription to calc.other sent nothing to the peer within 5 s")
	}
	others := make(chan error, 1)
	go func() {
		end2()
		end3, err := b.Subscribe(ctx, "calc.done", nop)
		if err == nil {
			end3()
		}
		others <- err
	}()
	select {
	case err = <-others:
	case <-time.After(2 * time.Second):
		t.Error("ending and making a subscription to calc.done waited 2 s for the peer's answer to the subscription to calc.other")
		px.release()
		err = <-others
	}
	if err != nil {
		t.Errorf("subscribing to calc.done again: %v", err)
	}
	px.release()
	if err := <-slow; err != nil {
		t.Errorf("the subscription to calc.other: %v", err)
	}
}
