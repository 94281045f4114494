package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/http" // http:// and https:// addresses
	_ "github.com/titanframework/titan/modules/netron/nats" // nats:// addresses
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
	_ "github.com/titanframework/titan/modules/netron/transport/tcp"  // tcp:// addresses
	_ "github.com/titanframework/titan/modules/netron/transport/unix" // unix:// addresses
	_ "github.com/titanframework/titan/modules/netron/transport/ws"   // ws:// and wss:// addresses
)

// defaultTimeout is the default of --timeout.
const defaultTimeout = 10 * time.Second

// noTimeout stands for "no request timeout" in a netron.Config, where zero
// means the default.
const noTimeout = 100 * 365 * 24 * time.Hour

// remoteFlags are the flags shared by the commands that talk to a running
// Netron process (call, inspect).
type remoteFlags struct {
	timeout time.Duration
	token   string
}

func (f *remoteFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&f.timeout, "timeout", defaultTimeout, "bound on connecting and on each request (0: none)")
	fs.StringVar(&f.token, "token", "", "bearer token to authenticate with (titan token mints one; default $TITAN_TOKEN)")
}

// check validates the flags; its errors are usage errors.
func (f *remoteFlags) check() error {
	if f.timeout < 0 {
		return &usageError{fmt.Errorf("--timeout %v is negative", f.timeout)}
	}
	return nil
}

// context returns the context of one command run: cancelled by SIGINT or
// SIGTERM, and bounded by --timeout when bounded is true.
func (f *remoteFlags) context(parent context.Context, bounded bool) (context.Context, context.CancelFunc) {
	token, from := f.token, "--token"
	if token == "" {
		token, from = os.Getenv("TITAN_TOKEN"), "$TITAN_TOKEN"
	}
	if token != "" {
		// Sent with every call, and by the authenticate task on
		// connections (see connect).
		parent = netron.WithOutgoingMetadata(parent, map[string]string{"authorization": "Bearer " + token})
		parent = context.WithValue(parent, tokenFromKey{}, from)
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	if !bounded || f.timeout == 0 {
		return ctx, stop
	}
	ctx, cancel := context.WithTimeoutCause(ctx, f.timeout, &timeoutError{f.timeout})
	return ctx, func() { cancel(); stop() }
}

// tokenFromKey is the context key of where the token of a command came
// from, --token or $TITAN_TOKEN, which its errors name: a token from the
// environment was not typed on the command line.
type tokenFromKey struct{}

// tokenFrom returns where the token of ctx came from.
func tokenFrom(ctx context.Context) string {
	if from, ok := ctx.Value(tokenFromKey{}).(string); ok {
		return from
	}
	return "--token"
}

// notConfigured is what a server without an authenticator (no security
// module) answers the authenticate task.
const notConfigured = "Authentication not configured"

// deadlineSkew bounds how much earlier than the context of a call a
// callee that got its deadline (a Netron call carries it, in whole
// milliseconds) may answer deadline_exceeded.
const deadlineSkew = 50 * time.Millisecond

// timeoutError is the cause of a command's context running out of
// --timeout.
type timeoutError struct{ timeout time.Duration }

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no answer within %v (--timeout)", e.timeout)
}

// Unwrap returns context.DeadlineExceeded.
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// parseAddress checks a process address: a URL whose scheme names a
// transport built into the titan command (tcp://127.0.0.1:7070,
// unix:///run/app.sock). A bare host:port means tcp://host:port. Its errors
// are usage errors.
func parseAddress(s string) (string, error) {
	if !strings.Contains(s, "://") && isHostPort(s) {
		if u, err := url.Parse("tcp://" + s); err == nil {
			if err := checkEndpoint(u); err != nil {
				return "", &usageError{fmt.Errorf("address %q %w", s, err)}
			}
		}
		return "tcp://" + s, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "", &usageError{fmt.Errorf("address %q: want a URL such as tcp://127.0.0.1:7070 or unix:///run/app.sock", s)}
	}
	// http:// and https:// name an HTTP gateway, which is no transport.
	if u.Scheme != "http" && u.Scheme != "https" {
		if _, err := transport.Lookup(u.Scheme); err != nil {
			return "", &usageError{fmt.Errorf("address %q: %w", s, err)}
		}
	}
	if err := checkEndpoint(u); err != nil {
		return "", &usageError{fmt.Errorf("address %q %w", s, err)}
	}
	return s, nil
}

// checkEndpoint refuses an address whose host, port or socket path is
// missing or malformed, which dialling would otherwise report as the
// process being unavailable (exit 1) instead of as bad usage.
func checkEndpoint(u *url.URL) error {
	switch u.Scheme {
	case "unix":
		if u.Opaque == "" && u.Path == "" {
			return errors.New("names no socket: want unix:///path/to/app.sock")
		}
	case "tcp", "tls", "ws", "wss", "http", "https", "nats":
		if u.Opaque != "" || u.Host == "" {
			return fmt.Errorf("names no host: want %s://host:port", u.Scheme)
		}
		port := u.Port()
		if port == "" && (u.Scheme == "tcp" || u.Scheme == "tls") {
			return fmt.Errorf("has no port: want %s://host:port", u.Scheme)
		}
		if _, err := strconv.ParseUint(port, 10, 16); port != "" && err != nil {
			return fmt.Errorf("has port %s, out of range (0 to 65535)", port)
		}
	}
	return nil
}

// isHostPort reports whether s is host:port with a numeric port.
func isHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil || port == "" || strings.Contains(s, "/") {
		return false
	}
	return strings.Trim(port, "0123456789") == ""
}

// connect dials addr with a client Netron of its own, which does not
// reconnect and bounds each request by timeout (0: no bound). close ends
// the connection and stops that Netron.
func connect(ctx context.Context, addr string, timeout time.Duration) (p *netron.Peer, close func(), err error) {
	if timeout == 0 {
		timeout = noTimeout
	}
	n, err := netron.New(netron.Config{
		RequestTimeout: timeout,
		Reconnect:      netron.ReconnectConfig{Disabled: true},
	}, nil)
	if err != nil {
		return nil, nil, err
	}
	close = func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	}
	if p, err = n.Dial(ctx, addr); err != nil {
		close()
		return nil, nil, err
	}
	if err := authenticate(ctx, p, addr); err != nil {
		close()
		return nil, nil, err
	}
	return p, close, nil
}

// authenticate runs the authenticate task with the token of ctx (--token)
// on a connection, so that the connection is the token's user for the
// definitions it asks too. Call doors (http://, https://, nats://) send
// the token with each request instead.
func authenticate(ctx context.Context, p *netron.Peer, addr string) error {
	token := netron.BearerToken(netron.OutgoingMetadata(ctx)["authorization"])
	scheme, _, _ := strings.Cut(addr, "://")
	if token == "" || scheme == "http" || scheme == "https" || scheme == "nats" {
		return nil
	}
	var res struct {
		Success bool   `json:"success"`
		Error   string `json:"error"`
	}
	from := tokenFrom(ctx)
	if err := p.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: token}}); err != nil {
		// The code leads the message once (failure puts it first).
		var e *netron.Error
		if errors.As(err, &e) {
			msg := e.Message()
			if e.Code() == netron.CodeUnavailable && msg == notConfigured {
				// The token is not needed, but was sent: say how not to.
				if from == "--token" {
					msg += " (the server checks no tokens: call it without --token)"
				} else {
					msg += " (the server checks no tokens: unset TITAN_TOKEN to call it without one)"
				}
			}
			return netron.NewError(e.Code(), fmt.Errorf("authenticate with %s: %s", from, msg))
		}
		return fmt.Errorf("authenticate with %s: %w", from, err)
	}
	if !res.Success {
		return netron.Errorf(netron.CodeUnauthenticated, "authenticate with %s: refused: %s", from, res.Error)
	}
	return nil
}

// badTarget is the usage error of a SERVICE argument netron.ParseTarget
// refused, without the package's prefixes (netron: target "x.y": netron:
// service name ...), which name no part of the command line.
func badTarget(err error) error {
	return &usageError{errors.New(strings.ReplaceAll(err.Error(), "netron: ", ""))}
}

// definition asks the peer for target's definition. A Go server resolves a
// range itself; a TypeScript one knows only names and exact versions, so
// on not_found a range is retried as a bare name and the version checked
// here, as the engine's own resolution does.
func definition(ctx context.Context, p *netron.Peer, target string) (*protocol.Definition, error) {
	def, err := p.Definition(ctx, target)
	if err == nil {
		return def, nil
	}
	t, perr := netron.ParseTarget(target)
	if perr != nil || t.Range == nil || netron.CodeOf(err) != netron.CodeNotFound {
		return nil, hiddenHint(ctx, err)
	}
	bare, berr := p.Definition(ctx, t.Name)
	if berr != nil || !t.Matches(metaString(bare.Meta, "version")) {
		return nil, hiddenHint(ctx, err)
	}
	return bare, nil
}

// hiddenHint explains a not_found of a lookup on a server that shows the
// caller no service at all: a server that checks callers (the security
// module) shows each caller only what it may call, so a missing or
// insufficient token looks like an empty server. Other errors are
// returned as they are.
func hiddenHint(ctx context.Context, err error) error {
	var e *netron.Error
	if !errors.As(err, &e) || e.Code() != netron.CodeNotFound {
		return err
	}
	details, _ := e.Details().(protocol.Object)
	available, ok := details.Get("available")
	if list, isList := available.([]any); !ok || !isList || len(list) > 0 {
		return err
	}
	if netron.OutgoingMetadata(ctx)["authorization"] == "" {
		return fmt.Errorf("%w; a server that needs a token shows nothing to callers without one: pass --token or set $TITAN_TOKEN (titan token mints one)", err)
	}
	return fmt.Errorf("%w; a server that checks tokens shows only what the token lets its bearer call", err)
}

// failure formats the error of a remote operation as "code: message"
// (invalid_argument: division by zero), the form titan prints after
// "titan: ". When ctx was cancelled (by SIGINT or SIGTERM: the commands'
// contexts have no other cancel) it is "interrupted", exit code 130; when
// it ran out of --timeout, "deadline_exceeded: no answer within 10s
// (--timeout)". A usage error is returned as it is.
func failure(ctx context.Context, err error) error {
	if isUsageError(err) {
		return err
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return &exitError{130, errors.New("interrupted")}
	}
	if d, ok := ctx.Deadline(); ok && netron.CodeOf(err) == netron.CodeDeadlineExceeded && time.Until(d) < deadlineSkew {
		// The callee got ctx's deadline, and its timer fired first.
		<-ctx.Done()
	}
	var timeout *timeoutError
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.As(context.Cause(ctx), &timeout) {
		return netron.NewError(netron.CodeDeadlineExceeded, timeout)
	}
	code := netron.CodeOf(err).String()
	if strings.HasPrefix(err.Error(), code+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", code, err)
}

// metaString returns o[key] when o is an object and that a string, else
// "".
func metaString(o any, key string) string {
	obj, _ := o.(protocol.Object)
	v, _ := obj.Get(key)
	s, _ := v.(string)
	return s
}
