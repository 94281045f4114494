package health

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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
// carries pings. Peers that dialled n are not its concern.
func Peers(n *netron.Netron) Check {
	return Check{Name: "peers", Run: func(ctx context.Context) error {
		var down []string
		for _, p := range n.Peers() {
			if !p.Dialled() {
				continue
			}
			if !p.Connected() {
				down = append(down, p.RemoteAddr()+" (reconnecting)")
				continue
			}
			if _, err := p.Ping(ctx); err != nil && netron.CodeOf(err) != netron.CodeUnimplemented {
				down = append(down, fmt.Sprintf("%s (ping: %v)", p.RemoteAddr(), err))
			}
		}
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
