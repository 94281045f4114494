// Package httpserve runs the small HTTP servers of Titan's own (the
// metrics module's admin server, the development UI's server under
// devui.listen and `titan dev`): one way to check their address, start
// them and stop them, with the same bounds on what a client may hold.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/titanframework/titan/internal/httpwrite"
)

// CheckAddr reports an address that is not host:port (":9090" is one), or
// whose port no server could listen on (":99999"), as [Start] would only
// once it listens.
func CheckAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || strings.Contains(addr, "/") {
		return fmt.Errorf("want host:port such as 127.0.0.1:9090 or :9090, got %q", addr)
	}
	if port == "" {
		// net.LookupPort reads "" as 0: a typo would listen on a port
		// nobody knows.
		return fmt.Errorf("want host:port with a port after the colon (0 for any free one), got %q", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("want host:port with a port from 0 to 65535 (or a service name such as http), got %q", addr)
	}
	return nil
}

// The bounds of a server's connections.
const (
	// HeaderTimeout bounds the time a request's header takes to arrive.
	HeaderTimeout = 10 * time.Second
	// BodyTimeout bounds the time a request's body takes to arrive once
	// the handler is called; a read after it fails with an error
	// matching os.ErrDeadlineExceeded, and the connection is closed. It
	// is not an http.Server ReadTimeout: that one also runs while the
	// handler answers, and cancels the request's context when it ends, so
	// it would cut a long answer (a stream of the development UI).
	BodyTimeout = 10 * time.Second
	// IdleTimeout bounds the time a keep-alive connection waits for its
	// next request.
	IdleTimeout = 2 * time.Minute
	// WriteTimeout bounds each write of an answer (of at most 64 KiB,
	// httpwrite.Part): a client that takes none of it for that long is
	// cut, and the request's context cancelled. It is not an http.Server
	// WriteTimeout, which would bound a whole answer, a stream's too.
	WriteTimeout = 30 * time.Second
)

// Server is a started server.
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
	err  error // why Serve returned, unless the server was stopped
}

// Start listens on addr and serves h until Stop; a failure of the server
// is logged on log as what's ("the admin server") and reported by Err.
// The server bounds the time a request's header and body take to arrive
// ([HeaderTimeout], [BodyTimeout]), the time each write of an answer waits
// for the client to take it ([WriteTimeout]) and an idle connection's wait
// for the next request ([IdleTimeout]), not the time h takes to answer.
func Start(addr string, h http.Handler, log *slog.Logger, what string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		srv: &http.Server{
			Handler:           timeBodies(timeWrites(h, WriteTimeout), BodyTimeout),
			ReadHeaderTimeout: HeaderTimeout,
			IdleTimeout:       IdleTimeout,
		},
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

// timeWrites bounds each write of the answers h gives to d
// (httpwrite.Timed).
func timeWrites(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = httpwrite.Timed(w, d)
		defer httpwrite.Finish(w)
		h.ServeHTTP(w, r)
	})
}

// timeBodies bounds the arrival of the body of each request h serves to
// d: it sets the connection's read deadline when h is called (so a body
// h leaves unread is bounded too, while net/http discards it) and clears
// it at the end of the body, so that h may then answer for as long as it
// likes.
func timeBodies(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(d)) != nil {
			h.ServeHTTP(w, r) // the connection cannot time reads
			return
		}
		// A copy: net/http decides how to drain what h leaves of the
		// body by the type of r.Body, which stays its own.
		timed := r.WithContext(r.Context())
		timed.Body = &timedBody{ReadCloser: r.Body, rc: rc}
		h.ServeHTTP(w, timed)
	})
}

// timedBody clears the connection's read deadline at the end of the body.
type timedBody struct {
	io.ReadCloser
	rc *http.ResponseController
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
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
// ends; it then cuts those left (closes their connections, which cancels
// their contexts) and returns ctx's error, so that none outlives the stop.
func (s *Server) Stop(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}
