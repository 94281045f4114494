package health_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/health"
	"github.com/titanframework/titan/modules/netron"
)

// A dialled peer whose connection is up but which answers nothing (its
// process stalled, its network cut without a reset) is named by the
// peers check, which answers within its timeout; the peers that do
// answer are not reported unreachable.
func TestPeersCheckNamesTheSilentPeer(t *testing.T) {
	t.Parallel()
	up := serveNetron(t)
	silent := serveNetron(t)
	proxy := newFreezingProxy(t, strings.TrimPrefix(silent, "tcp://"))

	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopNetron(t, n) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pUp, err := n.Dial(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	defer pUp.Close()
	pSilent, err := n.Dial(ctx, "tcp://"+proxy.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer pSilent.Close()

	c, err := health.NewChecker(2*time.Second, health.Peers(n))
	if err != nil {
		t.Fatal(err)
	}
	if rep := c.Ready(ctx); rep.Status != health.Healthy {
		t.Fatalf("both peers answering: %+v", rep)
	}

	proxy.freeze()
	rep := c.Ready(ctx)
	r := rep.Checks["peers"]
	if r.Healthy {
		t.Fatalf("a silent peer: the peers check passed: %+v", rep)
	}
	if !strings.Contains(r.Error, proxy.addr) {
		t.Errorf("the peers check does not name the silent peer %s: %q", proxy.addr, r.Error)
	}
	if a := pUp.RemoteAddr(); strings.Contains(r.Error, a) {
		t.Errorf("the peers check names %s, which answers: %q", a, r.Error)
	}
}

// serveNetron starts a Netron listening on tcp, stopped when the test ends,
// and returns its address.
func serveNetron(t *testing.T) string {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopNetron(t, n) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr, err := n.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func stopNetron(t *testing.T, n *netron.Netron) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Stop(ctx); err != nil {
		t.Error(err)
	}
}

// freezingProxy forwards TCP connections to a target until freeze is
// called; from then on it keeps the connections open and forwards
// nothing, as a stalled peer or a cut network does.
type freezingProxy struct {
	addr   string
	frozen atomic.Bool
	done   chan struct{}
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newFreezingProxy(t *testing.T, target string) *freezingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{addr: ln.Addr().String(), done: make(chan struct{})}
	p.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			p.wg.Go(func() { p.pipe(out, in) })
			p.wg.Go(func() { p.pipe(in, out) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		close(p.done)
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *freezingProxy) freeze() { p.frozen.Store(true) }

// pipe copies from src to dst, holding what it reads once frozen.
func (p *freezingProxy) pipe(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if p.frozen.Load() {
				<-p.done
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
