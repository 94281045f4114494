// Package embedded is discovery's zero-install backend for one machine
// ("nats-embedded"): the processes of a machine find each other through a
// NATS server that one of them runs inside itself. Import it and set
// discovery.backend: nats-embedded (discovery.url:
// nats-embedded://127.0.0.1:4248 is the default).
//
// The first process finds the port free and starts an in-process
// nats-server with JetStream there (package netron/nats/embedded); the
// others connect to it. When the hosting process dies, the others lose
// their connection, each tries the port, one takes it and starts a new
// server, and all reconnect to it and register again at their next
// heartbeat: a logged, recovered event, not a crash. Everything else is
// the NATS backend (package discovery/nats). This package links
// nats-server; apps that do not import it do not.
package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/discovery"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
	natsembedded "github.com/titanframework/titan/modules/netron/nats/embedded"
)

// DefaultPort is the port of the machine's embedded server.
const DefaultPort = 4248

func init() {
	discovery.RegisterBackend("nats-embedded", func(ctx context.Context, c discovery.Config, log *slog.Logger) (discovery.Registry, error) {
		return Open(ctx, c.URL, c.Prefix, c.TTL, log)
	})
}

// Registry is the NATS registry, with the embedded server this process
// hosts when it does.
type Registry struct {
	*dnats.Registry
	h *host
}

// Open joins, or hosts, the machine's embedded server at addr
// (nats-embedded://127.0.0.1:<port>; "" is the default port).
func Open(ctx context.Context, addr, prefix string, ttl time.Duration, log *slog.Logger) (*Registry, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
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
	h := &host{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: log}
	h.ensure()
	nc, err := nats.Connect("nats://"+h.addr, nats.Name("titan-discovery"), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.Timeout(5*time.Second),
		nats.DisconnectErrHandler(func(*nats.Conn, error) { go h.ensure() }),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("reconnected to the machine's embedded NATS server", "addr", h.addr) }))
	if err != nil {
		h.shutdown()
		return nil, fmt.Errorf("the embedded NATS server at %s: %w", h.addr, err)
	}
	r, err := dnats.OpenConn(ctx, nc, prefix, ttl, log)
	if err != nil {
		nc.Close()
		h.shutdown()
		return nil, fmt.Errorf("the embedded NATS server at %s: %w", h.addr, err)
	}
	return &Registry{Registry: r, h: h}, nil
}

// Close closes the connection and, when this process hosts the server,
// stops it (the others take over).
func (r *Registry) Close() error {
	err := r.Registry.Close()
	r.h.shutdown()
	return err
}

// Hosting reports whether this process runs the machine's server now.
func (r *Registry) Hosting() bool {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	return r.h.srv != nil
}

// host starts the machine's server when its port is free.
type host struct {
	addr string
	log  *slog.Logger

	mu       sync.Mutex
	srv      *natsembedded.Server
	dir      string
	closed   bool
	starting bool
}

// ensure starts the server unless the port is taken (another process
// hosts it) or this process already does.
func (h *host) ensure() {
	h.mu.Lock()
	if h.srv != nil || h.closed || h.starting {
		h.mu.Unlock()
		return
	}
	h.starting = true
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
	h.log.Info("hosting the machine's embedded NATS server", "addr", h.addr)
}

// start starts the server when the port is free, or returns nil.
func (h *host) start() (*natsembedded.Server, string) {
	l, err := net.Listen("tcp", h.addr)
	if err != nil {
		return nil, "" // taken: another process hosts the server
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
		return nil, "" // another process took the port first
	}
	return srv, dir
}

func (h *host) shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.srv != nil {
		h.srv.Shutdown()
		os.RemoveAll(h.dir)
		h.srv = nil
	}
}
