package health

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/netron"
)

// The checks about the engine and what it depends on: readiness checks.

// Transports checks that n listens on want addresses (those it opened at
// start) and is not draining: once it stops, its listeners are closed.
func Transports(n *netron.Netron, want int) Check {
	return Check{Name: "transports", Run: func(context.Context) error {
		if n.Draining() {
			return errors.New("the engine is stopping: its listeners are closed")
		}
		if addrs := n.Addrs(); len(addrs) < want {
			return fmt.Errorf("listening on %d of %d addresses (%s)", len(addrs), want, strings.Join(addrs, ", "))
		}
		return nil
	}}
}

// Peers checks that the peers n dialled (remote services, titan.Remote)
// are reachable: connected, and answering a ping where their transport
// carries pings. Peers that dialled n are not its concern. The peers are
// pinged together, each until three quarters of the time left to the
// check, so that a peer that does not answer (its process stalled, its
// network cut) is named in the check's error rather than taking the
// whole check past its timeout.
func Peers(n *netron.Netron) Check {
	return Check{Name: "peers", Run: func(ctx context.Context) error {
		pctx := ctx
		if d, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			pctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(d)*3/4))
			defer cancel()
		}
		var (
			mu   sync.Mutex
			down []string
			wg   sync.WaitGroup
		)
		for _, p := range n.Peers() {
			if !p.Dialled() {
				continue
			}
			if !p.Connected() {
				mu.Lock()
				down = append(down, p.RemoteAddr()+" (reconnecting)")
				mu.Unlock()
				continue
			}
			wg.Go(func() {
				start := time.Now()
				_, err := p.Ping(pctx)
				if err == nil || netron.CodeOf(err) == netron.CodeUnimplemented {
					return
				}
				why := fmt.Sprintf("%s (ping: %v)", p.RemoteAddr(), err)
				if pctx.Err() != nil && ctx.Err() == nil {
					why = fmt.Sprintf("%s (no answer to a ping within %v)", p.RemoteAddr(), time.Since(start).Round(time.Millisecond))
				}
				mu.Lock()
				down = append(down, why)
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(down) > 0 {
			slices.Sort(down)
			return fmt.Errorf("unreachable: %s", strings.Join(down, ", "))
		}
		return nil
	}}
}

// RegisteredCheck is the name of the [Registered] check.
const RegisteredCheck = "discovery"

// Registered checks that every service n serves on a listener is in reg
// under the instance id the discovery module registers it with
// (discovery.Instances, with advertise as discovery.advertise).
func Registered(n *netron.Netron, reg discovery.Registry, advertise string) Check {
	return Check{Name: RegisteredCheck, Run: func(ctx context.Context) error {
		if n.Draining() {
			return errors.New("the app is stopping: its services are deregistered")
		}
		ins, err := discovery.Instances(n, advertise)
		if err != nil {
			return err
		}
		var missing []string
		for _, in := range ins {
			found, err := reg.Discover(ctx, discovery.Query{Service: in.Service, Range: "=" + in.Version, AnyHealth: true})
			if err != nil {
				return fmt.Errorf("the registry does not answer: %w", err)
			}
			if !slices.ContainsFunc(found, func(f discovery.Instance) bool { return f.ID == in.ID }) {
				missing = append(missing, in.ID)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("not registered: %s", strings.Join(missing, ", "))
		}
		return nil
	}}
}
