// Package embedded runs a NATS server inside the process: the zero-install
// way to use nats:// (calls, events, discovery) on one machine. It listens
// on 127.0.0.1 on a free port by default; [Server.URL] is the address to
// give to netron.Netron.Listen and netron.Dial.
//
// A cluster of several machines needs a real NATS deployment; this package
// is for development, tests and single-machine installations.
package embedded

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Option configures [Start].
type Option interface {
	apply(*server.Options)
	String() string
}

type option struct {
	desc string
	fn   func(*server.Options)
}

func (o option) apply(s *server.Options) { o.fn(s) }
func (o option) String() string          { return o.desc }

// WithPort listens on port (0, the default, picks a free one).
func WithPort(port int) Option {
	return option{fmt.Sprintf("WithPort(%d)", port), func(o *server.Options) {
		o.Port = port
		if port == 0 {
			o.Port = server.RANDOM_PORT
		}
	}}
}

// WithJetStream turns JetStream on, storing its data under dir.
func WithJetStream(dir string) Option {
	return option{fmt.Sprintf("WithJetStream(%q)", dir), func(o *server.Options) {
		o.JetStream, o.StoreDir = true, dir
	}}
}

// WithMaxPayload sets the largest message the server accepts (1 MiB by
// default); nats:// connections take their frame limit from it.
func WithMaxPayload(bytes int32) Option {
	return option{fmt.Sprintf("WithMaxPayload(%d)", bytes), func(o *server.Options) { o.MaxPayload = bytes }}
}

// Server is a running embedded NATS server.
type Server struct {
	s *server.Server
}

// ErrListen is matched by the error of Start when the server cannot
// listen on its port (another process holds it).
var ErrListen = errors.New("embedded: the NATS server cannot listen on its port")

// fatalLog is the server's logger: it drops every record but the fatal
// ones, which it hands to Start (a port another process holds is one).
type fatalLog struct{ fatal chan string }

func (l fatalLog) Fatalf(format string, v ...any) {
	select {
	case l.fatal <- fmt.Sprintf(format, v...):
	default:
	}
}
func (fatalLog) Noticef(string, ...any) {}
func (fatalLog) Warnf(string, ...any)   {}
func (fatalLog) Errorf(string, ...any)  {}
func (fatalLog) Debugf(string, ...any)  {}
func (fatalLog) Tracef(string, ...any)  {}

// Start starts a server on 127.0.0.1 and waits until it accepts
// connections (at most 10 s); a port already taken fails at once
// ([ErrListen]). It logs nothing and leaves signals to the application.
func Start(opts ...Option) (*Server, error) {
	o := &server.Options{
		Host:   "127.0.0.1",
		Port:   server.RANDOM_PORT,
		NoLog:  true,
		NoSigs: true,
	}
	for _, opt := range opts {
		opt.apply(o)
	}
	s, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	log := fatalLog{fatal: make(chan string, 1)}
	s.SetLogger(log, false, false)
	go s.Start()
	deadline := time.Now().Add(10 * time.Second)
	for !s.ReadyForConnections(25 * time.Millisecond) {
		var err error
		select {
		case msg := <-log.fatal:
			err = fmt.Errorf("embedded: %s", msg)
			if strings.Contains(msg, "listening") {
				err = fmt.Errorf("%w: %s", ErrListen, msg)
			}
		default:
			if time.Now().After(deadline) {
				err = errors.New("embedded: the NATS server did not get ready within 10 s")
			}
		}
		if err != nil {
			s.Shutdown()
			s.WaitForShutdown()
			return nil, err
		}
	}
	return &Server{s: s}, nil
}

// URL returns the server's client URL, nats://127.0.0.1:<port>.
func (s *Server) URL() string { return s.s.ClientURL() }

// Shutdown stops the server and waits until it has stopped. Clients are
// disconnected.
func (s *Server) Shutdown() {
	s.s.Shutdown()
	s.s.WaitForShutdown()
}
