// Package embedded lets the processes of one machine find each other with
// nothing installed: import it, and set discovery.backend: nats with
// nats.embedded: true (port nats.embedded.port, default 4248).
//
// The first process finds the port free and starts an in-process
// nats-server with JetStream there (package netron/nats/embedded); the
// others connect to it. When the hosting process dies, the others lose
// their connection and each tries the port again at every reconnection
// attempt until one of them has taken it and started a new server; all
// reconnect to it and register again at once (the NATS backend writes
// its entries again when its connection comes back, creating the bucket
// on the new, empty server): a logged, recovered event, not a crash.
// Everything else is the NATS backend (package discovery/nats). This
// package links nats-server; apps that do not import it do not, and
// nats.embedded: true in them fails start-up naming this import.
//
// The backend name nats-embedded (discovery.url:
// nats-embedded://127.0.0.1:4248) is a deprecated alias of the same.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/discovery"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
	"github.com/titanframework/titan/modules/linked"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	natsembedded "github.com/titanframework/titan/modules/netron/nats/embedded"
)

// DefaultPort is the port of the machine's embedded server.
const DefaultPort = natstransport.DefaultEmbeddedPort

func init() {
	dnats.RegisterEmbedded(func(ctx context.Context, port int, prefix string, ttl time.Duration, log *slog.Logger) (discovery.Registry, error) {
		return OpenPort(ctx, port, prefix, ttl, log)
	})
	linked.Register(natstransport.EmbeddedModule, Module)
	discovery.RegisterBackend("nats-embedded", func(ctx context.Context, c discovery.Config, log *slog.Logger) (discovery.Registry, error) {
		log.Warn("discovery.backend: nats-embedded is deprecated; set discovery.backend: nats and nats.embedded: true (nats.embedded.port for the port)")
		return Open(ctx, c.URL, c.Prefix, c.TTL, log)
	})
}

// Module is linked into every app of a program that imports this
// package: it refuses nats.embedded: true beside a discovery backend that
// would not use it.
var Module = fx.Module(natstransport.EmbeddedModule,
	fx.Invoke(func(cfg *config.Config) error {
		nc, err := natstransport.SectionOf(cfg)
		if err != nil || !nc.Embedded.Enabled {
			return err
		}
		dc, err := config.Section[discovery.Config](cfg, "discovery")
		if err != nil {
			return err
		}
		if dc.Backend != "nats" && dc.Backend != "nats-embedded" {
			return fmt.Errorf("nats.embedded: the machine's embedded NATS server serves discovery.backend: nats, and discovery.backend is %q", dc.Backend)
		}
		return nil
	}),
)

// Registry is the NATS registry, with the embedded server this process
// hosts when it does.
type Registry struct {
	*dnats.Registry
	h *host
}

// Open is OpenPort with the port of addr (nats-embedded://127.0.0.1:<port>;
// "" is DefaultPort), the form of the deprecated nats-embedded backend.
func Open(ctx context.Context, addr, prefix string, ttl time.Duration, log *slog.Logger) (*Registry, error) {
	port := DefaultPort
	if addr != "" {
		u, err := url.Parse(addr)
		if err != nil || u.Scheme != "nats-embedded" || u.Port() == "" {
			return nil, fmt.Errorf("discovery.url %q: want nats-embedded://127.0.0.1:<port>", addr)
		}
		if port, err = strconv.Atoi(u.Port()); err != nil {
			return nil, fmt.Errorf("discovery.url %q: %w", addr, err)
		}
	}
	return OpenPort(ctx, port, prefix, ttl, log)
}

// OpenPort joins, or hosts, the machine's embedded server on
// 127.0.0.1:port and opens the registry there. log receives the events
// of the server's life: hosting it, losing it, taking it over,
// reconnecting.
func OpenPort(ctx context.Context, port int, prefix string, ttl time.Duration, log *slog.Logger) (*Registry, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("nats.embedded.port: want a port (1 to 65535), got %d", port)
	}
	h := &host{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: log}
	h.ensure(false)
	nc, err := nats.Connect("nats://"+h.addr, nats.Name("titan-discovery"), nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait), nats.ReconnectJitter(reconnectWait, reconnectWait), nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			if c.IsClosed() {
				return // this process closed it: its registry is closing
			}
			log.Warn("lost the machine's embedded NATS server; reconnecting, or taking it over", "addr", h.addr, "error", err)
			h.takeOver()
		}),
		// Every failed attempt tries the port again: the dead host's port
		// may not be free yet when its connections are already gone.
		nats.ReconnectErrHandler(func(*nats.Conn, error) { h.takeOver() }),
		nats.ReconnectHandler(func(*nats.Conn) {
			log.Info("reconnected to the machine's embedded NATS server", "addr", h.addr, "hosting", h.hosting())
		}))
	if err != nil {
		h.shutdown()
		return nil, fmt.Errorf("nats.embedded: the embedded NATS server at %s: %w", h.addr, err)
	}
	r, err := dnats.OpenConn(ctx, nc, prefix, ttl, log)
	if err != nil {
		nc.Close()
		h.shutdown()
		return nil, fmt.Errorf("nats.embedded: the embedded NATS server at %s: %w", h.addr, err)
	}
	return &Registry{Registry: r, h: h}, nil
}

// reconnectWait is the pause between reconnection attempts (plus as much
// jitter, so that survivors do not try the port in step).
const reconnectWait = 50 * time.Millisecond

// Close closes the connection and, when this process hosts the server,
// stops it (the others take over).
func (r *Registry) Close() error {
	err := r.Registry.Close()
	r.h.shutdown()
	return err
}

// Hosting reports whether this process runs the machine's server now.
func (r *Registry) Hosting() bool { return r.h.hosting() }

// host starts the machine's server when its port is free.
type host struct {
	addr string
	log  *slog.Logger

	mu       sync.Mutex
	srv      *natsembedded.Server
	dir      string
	closed   bool
	starting bool
	tries    sync.WaitGroup // takeOver's goroutines
}

func (h *host) hosting() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.srv != nil
}

// takeOver tries the port in a goroutine of its own (nats.go's callbacks
// must not wait for a server to start); shutdown waits for it.
func (h *host) takeOver() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.starting || h.srv != nil {
		return
	}
	h.starting = true
	h.tries.Add(1)
	go func() {
		defer h.tries.Done()
		h.ensure(true)
	}()
}

// ensure starts the server unless the port is taken (another process
// hosts it) or this process already does.
func (h *host) ensure(takeover bool) {
	h.mu.Lock()
	if !takeover {
		if h.srv != nil || h.closed || h.starting {
			h.mu.Unlock()
			return
		}
		h.starting = true
	}
	h.mu.Unlock()
	srv, dir := h.start()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.starting = false
	if srv == nil {
		return
	}
	if h.closed { // closed while starting
		srv.Shutdown()
		os.RemoveAll(dir)
		return
	}
	h.srv, h.dir = srv, dir
	if takeover {
		h.log.Warn("took over the machine's embedded NATS server: this process hosts it now", "addr", h.addr)
	} else {
		h.log.Info("hosting the machine's embedded NATS server", "addr", h.addr)
	}
}

// start starts the server when the port is free, or returns nil.
func (h *host) start() (*natsembedded.Server, string) {
	l, err := net.Listen("tcp", h.addr)
	if err != nil {
		return nil, "" // taken: another process hosts the server (or its port is not free yet)
	}
	l.Close()
	dir, err := os.MkdirTemp("", "titan-nats-")
	if err != nil {
		h.log.Error("cannot host the embedded NATS server", "addr", h.addr, "error", err)
		return nil, ""
	}
	_, port, _ := net.SplitHostPort(h.addr)
	p, _ := strconv.Atoi(port)
	srv, err := natsembedded.Start(natsembedded.WithPort(p), natsembedded.WithJetStream(dir))
	if err != nil {
		os.RemoveAll(dir)
		if !errors.Is(err, natsembedded.ErrListen) {
			h.log.Error("cannot host the embedded NATS server", "addr", h.addr, "error", err)
		}
		return nil, "" // another process took the port first
	}
	return srv, dir
}

func (h *host) shutdown() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.tries.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.srv != nil {
		h.srv.Shutdown()
		os.RemoveAll(h.dir)
		h.srv = nil
	}
}
