package nats

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

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
	// Events is the NATS URL of the events bridge; empty turns it off. A
	// server that requires TLS is spoken to with the Netron's client TLS
	// configuration (security.tls), as by the gateway.
	Events string `json:"events,omitempty" jsonschema:"description=NATS URL for events across processes (empty: off)"`
	// Prefix is the first token of every subject ("titan").
	Prefix string `json:"prefix,omitempty" jsonschema:"pattern=^[A-Za-z0-9_-]+$"`
	// Embedded shares one NATS server among the processes of this machine,
	// run inside the first of them on 127.0.0.1:nats.embedded.port (4248):
	// with discovery.backend: nats they find each other with nothing
	// installed. It needs package discovery/nats/embedded, which links
	// nats-server: a program that does not import it fails start-up
	// saying so.
	Embedded Embedded `json:"embedded,omitempty"`
}

// EmbeddedModule is the name under which package discovery/nats/embedded
// registers its module with package linked; nats.embedded needs it.
const EmbeddedModule = "titan.nats.embedded"

// EmbeddedImport is the import that makes nats.embedded work.
const EmbeddedImport = "github.com/titanframework/titan/modules/discovery/nats/embedded"

// ErrEmbeddedNotLinked is the error of nats.embedded: true in a program
// that does not link the embedded server.
var ErrEmbeddedNotLinked = fmt.Errorf("nats.embedded: the machine's embedded NATS server is not linked into this program: add import _ %q", EmbeddedImport)

// SectionOf returns the nats section of cfg.
func SectionOf(cfg *titanconfig.Config) (Config, error) {
	return titanconfig.Section[Config](cfg, "nats")
}

// Module registers the `nats` section and, when nats.events is set, runs
// the events bridge while the app runs. titan.New adds it to every app of
// a program that links this package.
var Module = fx.Module("titan.nats",
	titanconfig.AsSection("nats", Config{}),
	fx.Invoke(func(lc fx.Lifecycle, cfg *titanconfig.Config, n *netron.Netron, log *slog.Logger) error {
		c, err := SectionOf(cfg)
		if err != nil {
			return err
		}
		if c.Embedded.Enabled && !linked.Has(EmbeddedModule) {
			return ErrEmbeddedNotLinked
		}
		if c.Events == "" {
			return nil
		}
		var (
			nc *nats.Conn
			b  *Bridge
		)
		lc.Append(fx.Hook{
			OnStart: func(ctx context.Context) error {
				var err error
				// The Netron's client TLS (security.tls), for a server
				// that requires TLS, as the gateway and nats:// dials use.
				nc, err = nats.Connect(c.Events, serverTLS(n.ListenOptions("nats").ServerTLS),
					nats.Name("titan-events "+n.ID()), nats.MaxReconnects(-1))
				if err != nil {
					return fmt.Errorf("nats.events %s: %w", redactURLs(c.Events), err)
				}
				var opts []BridgeOption
				if c.Prefix != "" {
					opts = append(opts, WithPrefix(c.Prefix))
				}
				if b, err = NewBridge(n, nc, opts...); err != nil {
					nc.Close()
					return fmt.Errorf("nats.events: %w", err)
				}
				log.Info("events bridged to NATS", "url", redactURLs(c.Events))
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

// redactURLs returns the comma-separated NATS URLs of urls as shown
// shows one, for errors and logs; a URL that does not parse loses
// everything up to its '@'.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := url.Parse(p); err == nil {
			parts[i] = shown(u)
		} else if _, host, ok := strings.Cut(p, "@"); ok {
			parts[i] = host
		}
	}
	return strings.Join(parts, ",")
}
