// Package httpserve runs the small HTTP servers of Titan's own (the
// metrics module's admin server, the development UI's server under
// devui.listen and `titan dev`): one way to check their address, start
// them and stop them.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// CheckAddr reports an address that is not host:port (":9090" is one).
func CheckAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil || strings.Contains(addr, "/") {
		return fmt.Errorf("want host:port such as 127.0.0.1:9090 or :9090, got %q", addr)
	}
	return nil
}

// Server is a started server.
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
	err  error // why Serve returned, unless the server was stopped
}

// Start listens on addr and serves h until Stop; a failure of the server
// is logged on log as what's ("the admin server") and reported by Err.
func Start(addr string, h http.Handler, log *slog.Logger, what string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
			log.Error(what+" failed", "addr", s.addr, "error", err)
		}
	}()
	return s, nil
}

// Addr returns the address the server listens on (host:port, the port
// resolved).
func (s *Server) Addr() string { return s.addr }

// Done is closed when the server has stopped serving.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns why the server stopped serving, once Done is closed; nil
// when Stop stopped it.
func (s *Server) Err() error {
	<-s.done
	return s.err
}

// Stop stops the server, waiting for the requests in flight until ctx
// ends.
func (s *Server) Stop(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
