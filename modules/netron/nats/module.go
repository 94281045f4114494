package nats

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"go.uber.org/fx"

	titanconfig "github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/linked"
	"github.com/titanframework/titan/modules/netron"
)

// Linking this package adds Module to every Titan app of the program: an
// app that imports it (for nats:// addresses, or only for the events
// bridge) gets the `nats` section; one that does not links no NATS code.
func init() { linked.Register("titan.nats", Module) }

// Config is the `nats` configuration section. With an Events URL, every
// local Emit also reaches the subscribers of every other process connected
// to that NATS cluster, and theirs reach this one. Serving and calling over
// NATS need no section: list a nats:// address in netron.listen, or dial one.
type Config struct {
	// Events is the NATS URL of the events bridge; empty turns it off.
	Events string `json:"events,omitempty" jsonschema:"description=NATS URL for events across processes (empty: off)"`
	// Prefix is the first token of every subject ("titan").
	Prefix string `json:"prefix,omitempty" jsonschema:"pattern=^[A-Za-z0-9_-]+$"`
}

// Module registers the `nats` section and, when nats.events is set, runs
// the events bridge while the app runs. titan.New adds it to every app of
// a program that links this package.
var Module = fx.Module("titan.nats",
	titanconfig.AsSection("nats", Config{}),
	fx.Invoke(func(lc fx.Lifecycle, cfg *titanconfig.Config, n *netron.Netron, log *slog.Logger) error {
		c, err := titanconfig.Section[Config](cfg, "nats")
		if err != nil || c.Events == "" {
			return err
		}
		var (
			nc *nats.Conn
			b  *Bridge
		)
		lc.Append(fx.Hook{
			OnStart: func(ctx context.Context) error {
				var err error
				nc, err = nats.Connect(c.Events, nats.Name("titan-events "+n.ID()), nats.MaxReconnects(-1))
				if err != nil {
					return fmt.Errorf("nats.events %s: %w", c.Events, err)
				}
				var opts []BridgeOption
				if c.Prefix != "" {
					opts = append(opts, WithPrefix(c.Prefix))
				}
				if b, err = NewBridge(n, nc, opts...); err != nil {
					nc.Close()
					return fmt.Errorf("nats.events: %w", err)
				}
				log.Info("events bridged to NATS", "url", c.Events)
				return nil
			},
			OnStop: func(context.Context) error {
				if b != nil {
					b.Close()
				}
				if nc != nil {
					nc.Close()
				}
				return nil
			},
		})
		return nil
	}),
)
