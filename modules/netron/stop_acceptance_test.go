package netron_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Stop while calls keep arriving: every call either completes or fails
// with unavailable, and Stop returns within its bound.
func TestAcceptanceStopUnderLoad(t *testing.T) {
	t.Parallel()
	for round := range 20 {
		s, _ := netronServer(t, "mem", netron.Config{}, nil)
		p := dialWith(t, s.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for ctx.Err() == nil {
					_, err := p.Call(ctx, "calculator@1.0.0", "add", 1, 2)
					if err != nil {
						if c := netron.CodeOf(err); c != netron.CodeUnavailable {
							t.Errorf("round %d: call during stop: %v", round, err)
						}
						return
					}
				}
			})
		}
		time.Sleep(2 * time.Millisecond)
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := s.n.Stop(sctx); err != nil {
			t.Errorf("round %d: Stop: %v", round, err)
		}
		scancel()
		wg.Wait()
		cancel()
	}
}

// Later answers a call after a delay with a string of the size asked.
type Later struct{}

func (Later) Answer(ctx context.Context, size int, after string) (string, error) {
	d, err := time.ParseDuration(after)
	if err != nil {
		return "", err
	}
	time.Sleep(d)
	return strings.Repeat("x", size), nil
}

// Calls in flight when Stop begins run to their end and their answers
// (1 MiB each, so writing them takes a while) reach the caller before the
// connection closes, on every stream transport.
func TestAcceptanceStopFlushesAnswers(t *testing.T) {
	for _, scheme := range []string{"tcp", "unix", "ws", "mem"} {
		t.Run(scheme, func(t *testing.T) {
			s, _ := netronServer(t, scheme, netron.Config{}, nil)
			if err := s.n.Register("later", "1.0.0", Later{}); err != nil {
				t.Fatal(err)
			}
			p := dialWith(t, s.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
			const calls, size = 16, 1 << 20
			got := make(chan error, calls)
			// A deadline far from the default request timeout: under -race
			// on a loaded machine, 16 MiB of answers took longer than 5 s
			// to reach the caller, while what is tested is that they all
			// reach it before the connection closes.
			cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
			defer ccancel()
			for range calls {
				go func() {
					v, err := netron.CallUnary[string](cctx, p, "later@1.0.0", "answer", size, "300ms")
					if err == nil && len(v) != size {
						err = errors.New("short answer")
					}
					got <- err
				}()
			}
			waitRunning(t, s.n, calls)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.n.Stop(ctx); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			for range calls {
				select {
				case err := <-got:
					if err != nil {
						t.Fatalf("a call in flight at Stop got %v; want its answer", err)
					}
				case <-time.After(time.Minute):
					t.Fatal("no answer a minute after Stop")
				}
			}
		})
	}
}

// Stop past its timeout names the calls still running.
func TestAcceptanceStopOverrunNamesCalls(t *testing.T) {
	t.Parallel()
	log, rec := captureLogger()
	s, _ := netronServer(t, "tcp", netron.Config{}, log)
	p := dialWith(t, s.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
	go netron.CallUnary[string](context.Background(), p, "calculator@1.0.0", "slow", "3s")
	waitRunning(t, s.n, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s.n.Stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "1 calls still running (calculator@1.0.0.slow from ") {
		t.Fatalf("Stop past its timeout returned %v; want it to name calculator@1.0.0.slow", err)
	}
	if rec.count("WARN stop timeout overrun: calls still running", "calculator@1.0.0.slow") != 1 {
		t.Error("no warning naming the call still running")
	}
}

// waitRunning waits until n serves calls calls.
func waitRunning(t *testing.T, n *netron.Netron, calls int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for len(netron.RunningCalls(n)) < calls {
		if time.Now().After(deadline) {
			t.Fatal("the call did not start within 2 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A call that did not run says so (errors.Is ErrNotRun), so that a
// balancer may send it elsewhere: refused by a stopping server (over the
// wire, between Go peers), or made on a closed peer. A call the server
// received does not.
func TestNotRun(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{}, nil)
	if err := s.n.Register("later", "1.0.0", Later{}); err != nil {
		t.Fatal(err)
	}
	p := dialWith(t, s.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
	ctx := context.Background()
	running := make(chan error, 1)
	go func() {
		_, err := netron.CallUnary[string](ctx, p, "later@1.0.0", "answer", 1, "300ms")
		running <- err
	}()
	waitRunning(t, s.n, 1)
	stopped := make(chan error, 1)
	go func() { stopped <- s.n.Stop(ctx) }()
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := netron.CallUnary[string](ctx, p, "later@1.0.0", "answer", 1, "0s")
		if err != nil {
			if !errors.Is(err, netron.ErrNotRun) || netron.CodeOf(err) != netron.CodeUnavailable || !strings.Contains(err.Error(), "server is shutting down") {
				t.Fatalf("a call refused by a stopping server: %v (code %v, not run %v)", err, netron.CodeOf(err), errors.Is(err, netron.ErrNotRun))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("calls were still served 2 s after Stop began")
		}
	}
	if err := <-running; err != nil {
		t.Fatalf("the call in flight at Stop: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	_, err := netron.CallUnary[string](ctx, p, "later@1.0.0", "answer", 1, "0s")
	if !errors.Is(err, netron.ErrNotRun) || netron.CodeOf(err) != netron.CodeUnavailable {
		t.Fatalf("a call on a closed peer: %v, want unavailable and not run", err)
	}
	if errors.Is(netron.Errorf(netron.CodeUnavailable, "connection lost"), netron.ErrNotRun) {
		t.Fatal("any unavailable error reads as not run")
	}
}

// Front is a service whose method calls another instance (down) and
// returns that call's error, wrapped, after doing its own work.
type Front struct {
	down *netron.Peer
	ran  *atomic.Int32
}

func (f Front) Order(ctx context.Context, item string) (string, error) {
	f.ran.Add(1)
	if _, err := netron.CallUnary[string](ctx, f.down, "later@1.0.0", "answer", 1, "0s"); err != nil {
		return "", fmt.Errorf("order %s: %w", item, err)
	}
	return "ok", nil
}

// A method's error that wraps ErrNotRun (a call the method made did not
// run) does not say that the caller's call did not run: it did, and a
// caller that sent it again (titan.Remote's retry of calls that did not
// run) would run a method that is not idempotent once more.
func TestNotRunOfAMethodsOwnCall(t *testing.T) {
	t.Parallel()
	d, _ := netronServer(t, "tcp", netron.Config{}, nil)
	closed := dialWith(t, d.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
	closed.Close() // the method's calls on it do not run
	<-closed.Done()
	ran := new(atomic.Int32)
	s, _ := netronServer(t, "tcp", netron.Config{}, nil)
	if err := s.n.Register("front", "1.0.0", Front{down: closed, ran: ran}); err != nil {
		t.Fatal(err)
	}
	p := dialWith(t, s.addr, netron.Config{})
	_, err := netron.CallUnary[string](context.Background(), p, "front@1.0.0", "order", "book")
	if netron.CodeOf(err) != netron.CodeUnavailable || !strings.Contains(err.Error(), "unavailable: order book: connection closed") {
		t.Fatalf("order: %v, want the method's error, its words kept (unavailable: order book: connection closed)", err)
	}
	if errors.Is(err, netron.ErrNotRun) {
		t.Fatalf("the answer of a method that ran reads as not run: %v", err)
	}
	if n := ran.Load(); n != 1 {
		t.Fatalf("the method ran %d times", n)
	}
}

// TestAcceptanceStopReturnsOnUnreadPeer: a peer that sends pings with
// large payloads and reads none of the answers leaves the server's writer
// blocked with less queued than makes senders wait. A Stop with no
// deadline still returns: the flush of that connection reports the stall
// after WriteStallTimeout, as a sender waiting for room does (before, it
// waited for the idle probe, IdleTimeout+PingTimeout, and forever with
// IdleTimeout < 0).
func TestAcceptanceStopReturnsOnUnreadPeer(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{IdleTimeout: -1, WriteStallTimeout: 300 * time.Millisecond}, nil)
	nc := dialTCP(t, s.addr)
	msg := packetFrame(t, &protocol.Packet{ID: 1, Type: protocol.TypePing, Impulse: true, Data: make([]byte, 60<<10)})
	// 5 MiB of answers: more than the socket buffers hold, less than the
	// 8 MiB queued that makes senders wait.
	for range 5 << 20 / len(msg) {
		if _, err := nc.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond) // the server reads the rest and queues its answers
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- s.n.Stop(context.Background()) }()
	select {
	case <-done:
		t.Logf("Stop returned after %v", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("Stop(context.Background()) still waits after 10 s on a peer that reads nothing")
	}
}
