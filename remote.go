package titan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// remotePool is the set of peers a Remote calls: one connection per
// instance of the service, calls spread round-robin over those connected
// now. When the app's Resolver follows changes (netron.WatchResolver, as
// discovery's does) the set follows the instances: new ones are dialled,
// gone ones closed.
type remotePool struct {
	n        *netron.Netron
	target   netron.Target
	desc     string
	log      *slog.Logger
	balancer string // discovery.balancer

	idem atomic.Pointer[map[string]bool] // the methods marked idempotent, from the definition

	mu    sync.Mutex
	peers []*pooledPeer // in the order the resolver gave
	snap  atomic.Pointer[[]*pooledPeer]
	next  atomic.Uint64

	cancel context.CancelFunc
	done   chan struct{}

	retiring sync.WaitGroup
	stopping chan struct{} // closed by close: retiring peers close at once
	stopOnce sync.Once
}

type pooledPeer struct {
	addr string
	p    *netron.Peer
}

// get picks the peer of the next call among those connected now (a peer
// that is reconnecting is passed over while another is connected, so that
// a call fails over before it is sent), by the balancer: round-robin,
// random, least-pending or power-of-two.
func (rp *remotePool) get() (*netron.Peer, error) {
	ps := rp.snap.Load()
	if ps == nil || len(*ps) == 0 {
		return nil, netron.Errorf(netron.CodeUnavailable, "remote %s: no instance is connected", rp.target)
	}
	all := *ps
	n := len(all)
	var start int
	if rp.balancer == "round-robin" || rp.balancer == "" {
		start = int(rp.next.Add(1) % uint64(n))
	} else {
		start = rand.IntN(n)
	}
	switch rp.balancer {
	case "least-pending":
		var best *netron.Peer
		for i := range n {
			p := all[(start+i)%n].p
			if p.Connected() && (best == nil || p.InFlight() < best.InFlight()) {
				best = p
			}
		}
		if best != nil {
			return best, nil
		}
	case "power-of-two":
		a := all[start].p
		b := all[(start+1+rand.IntN(max(n-1, 1)))%n].p
		switch {
		case a.Connected() && b.Connected():
			if b.InFlight() < a.InFlight() {
				return b, nil
			}
			return a, nil
		case b.Connected():
			return b, nil
		}
		// a connected, or neither: the round below
	}
	for i := range n {
		if p := all[(start+i)%n].p; p.Connected() {
			return p, nil
		}
	}
	return all[start].p, nil // none connected: its error says why
}

// idempotent reports whether the service's definition marks method
// idempotent.
func (rp *remotePool) idempotent(method string) bool {
	m := rp.idem.Load()
	return m != nil && (*m)[method]
}

// publish makes the current peers the set calls pick from.
func (rp *remotePool) publishLocked() {
	ps := slices.Clone(rp.peers)
	rp.snap.Store(&ps)
}

// dial connects to every address, keeping those that answered; it fails
// only when none did, with every address's error.
func (rp *remotePool) set(ctx context.Context, addrs []string) error {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	have := map[string]*pooledPeer{}
	for _, pp := range rp.peers {
		have[pp.addr] = pp
	}
	var (
		keep []*pooledPeer
		errs []error
	)
	for _, a := range addrs {
		if pp := have[a]; pp != nil {
			keep = append(keep, pp)
			delete(have, a)
			continue
		}
		p, err := rp.n.Dial(ctx, a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		keep = append(keep, &pooledPeer{addr: a, p: p})
	}
	for _, pp := range have { // instances that left: no new calls, then closed
		rp.retire(pp.p)
	}
	rp.peers = keep
	rp.publishLocked()
	if len(keep) == 0 && len(addrs) > 0 {
		return errors.Join(errs...)
	}
	if len(errs) > 0 && rp.log != nil {
		rp.log.Warn("some instances of a remote service cannot be reached", "target", rp.target.String(), "error", errors.Join(errs...))
	}
	return nil
}

// retire closes a peer that left the set once the calls it carries are
// answered (new calls no longer pick it), or after the request timeout,
// or at once when the pool closes.
func (rp *remotePool) retire(p *netron.Peer) {
	rp.retiring.Add(1)
	go func() {
		defer rp.retiring.Done()
		deadline := time.Now().Add(rp.n.Config().RequestTimeout)
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for p.InFlight() > 0 && time.Now().Before(deadline) {
			select {
			case <-rp.stopping:
				_ = p.Close()
				return
			case <-tk.C:
			}
		}
		_ = p.Close()
	}()
}

// follow keeps the set with the resolver's changes until stop.
func (rp *remotePool) follow(w netron.WatchResolver) {
	ctx, cancel := context.WithCancel(context.Background())
	rp.cancel, rp.done = cancel, make(chan struct{})
	go func() {
		defer close(rp.done)
		for addrs, err := range w.Watch(ctx, rp.target) {
			if err != nil {
				if rp.log != nil && ctx.Err() == nil {
					rp.log.Warn("following the instances of a remote service", "target", rp.target.String(), "error", err)
				}
				continue
			}
			dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
			if err := rp.set(dctx, addrs); err != nil && ctx.Err() == nil && rp.log != nil {
				rp.log.Warn("no instance of a remote service can be reached", "target", rp.target.String(), "error", err)
			}
			dcancel()
		}
	}()
}

// close stops following and closes every peer.
func (rp *remotePool) close() error {
	if rp.cancel != nil {
		rp.cancel()
		<-rp.done
	}
	rp.stopOnce.Do(func() { close(rp.stopping) })
	rp.retiring.Wait()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var errs []error
	for _, pp := range rp.peers {
		errs = append(errs, pp.p.Close())
	}
	rp.peers = nil
	rp.publishLocked()
	return errors.Join(errs...)
}

// start resolves the target (or takes addr), connects to its instances,
// checks the client against the first, and follows changes when it can.
func (rp *remotePool) start(ctx context.Context, r netron.Resolver, addr string, check func(*netron.Peer) error) error {
	addrs := []string{addr}
	if addr == "" {
		var err error
		if addrs, err = r.Resolve(ctx, rp.target); err != nil {
			return fmt.Errorf("%s: %w (or give an address with titan.At)", rp.desc, err)
		}
	}
	if err := rp.set(ctx, addrs); err != nil {
		return fmt.Errorf("%s: %w", rp.desc, err)
	}
	first := (*rp.snap.Load())[0].p
	if err := check(first); err != nil {
		_ = rp.close() // OnStop does not run for a hook that failed
		return fmt.Errorf("%s: %w", rp.desc, err)
	}
	if w, ok := r.(netron.WatchResolver); ok && addr == "" {
		rp.follow(w)
	}
	return nil
}
