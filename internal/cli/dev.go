package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/titanframework/titan/internal/httpserve"

	"github.com/spf13/cobra"

	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/netron"
)

func init() { register("services", newDev) }

// defaultDevListen is the default of titan dev's --listen.
const defaultDevListen = "127.0.0.1:7090"

func newDev() *cobra.Command {
	var (
		remote      remoteFlags
		listen      string
		allowRemote bool
		hosts       []string
	)
	cmd := &cobra.Command{
		Use:   "dev ADDRESS",
		Short: "Serve the development UI of a running process",
		Long: `Serve the development UI of the Netron process at ADDRESS on this
machine, at http://127.0.0.1:7090/_titan/ (--listen moves it): the page
an app serves itself with devui.enabled, against any running app, through
its Netron endpoint. It explores the process's services (as its
list_services and query_interface answer), calls them with forms made from
their contracts, shows the events the process sends (by exact name: a peer
subscribes to events by name), and lists the one peer, this connection.

ADDRESS is a URL: tcp://127.0.0.1:7070, unix:///run/app.sock,
ws://127.0.0.1:7080 or http://127.0.0.1:7080 (the HTTP gateway); a bare
host:port means tcp. nats:// reaches services, not one process, and is
refused. --token authenticates the connection, so the page shows what the
token may call; a token entered in the page is sent with each call the
page makes. The connection is restored when the process restarts. Ctrl-C
stops it.

The page answers callers on this machine only, under its own names
(localhost, a loopback address, the --listen address): --allow-remote
opens it to other machines, --allowed-host adds a name a reverse proxy
passes.`,
		Example: `  titan dev tcp://127.0.0.1:7070
  titan dev localhost:7070 --listen 127.0.0.1:8090 --token "$TOKEN"`,
		Args: usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := remote.check(); err != nil {
				return err
			}
			addr, err := parseAddress(args[0])
			if err != nil {
				return err
			}
			if strings.HasPrefix(addr, "nats://") {
				// NATS reaches the instances of a service, not one process:
				// there is no service list for the page to show
				// (list_services is not served over NATS).
				return &usageError{fmt.Errorf("address %q: titan dev needs one process's endpoint (tcp://, unix://, ws:// or http://), not nats://, which reaches services and not the process that lists them", args[0])}
			}
			if err := httpserve.CheckAddr(listen); err != nil {
				return &usageError{fmt.Errorf("--listen: %w", err)}
			}
			// Only a signal ends it; --timeout bounds connecting and each
			// request the page makes without a bound of its own.
			ctx, cancel := remote.context(cmd.Context(), false)
			defer cancel()
			var opts []devui.Option
			if allowRemote {
				opts = append(opts, devui.WithRemoteAccess(true))
			}
			if len(hosts) > 0 {
				opts = append(opts, devui.WithAllowedHosts(hosts...))
			}
			return dev(ctx, cmd.OutOrStdout(), addr, listen, remote.timeout, opts...)
		},
	}
	remote.register(cmd.Flags())
	cmd.Flags().StringVar(&listen, "listen", defaultDevListen, "address (host:port) of the page's HTTP server")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "answer callers on other machines too (give the process a token then)")
	cmd.Flags().StringSliceVar(&hosts, "allowed-host", nil, "a host name the page answers under besides this machine's own (a reverse proxy's); repeatable")
	return cmd
}

// dev connects to addr and serves the UI of the process there on listen
// until ctx ends.
func dev(ctx context.Context, out io.Writer, addr, listen string, timeout time.Duration, opts ...devui.Option) error {
	requestTimeout := timeout
	if requestTimeout == 0 {
		requestTimeout = noTimeout
	}
	// Unlike call's, this client reconnects: the page outlives a restart
	// of the process.
	n, err := netron.New(netron.Config{RequestTimeout: requestTimeout}, nil)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = n.Stop(sctx)
	}()
	dctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		// Its cause makes failure say "no answer within ... (--timeout)".
		dctx, cancel = context.WithTimeoutCause(ctx, timeout, &timeoutError{timeout})
	}
	p, err := n.Dial(dctx, addr)
	if err == nil {
		err = authenticate(dctx, p, addr)
	}
	if scheme, _, _ := strings.Cut(addr, "://"); err == nil && (scheme == "http" || scheme == "https") {
		// Dialling an HTTP gateway reaches nothing yet: its service list,
		// the page's first request, shows that the process is there.
		_, err = p.Services(dctx)
	}
	if err != nil {
		err = failure(dctx, err) // before cancel, which would pass for an interrupt
		cancel()
		return err
	}
	cancel()

	h := devui.NewHandler(devui.Remote(p, addr), opts...)
	srv, err := httpserve.Start(listen, devui.Standalone(h), slog.New(slog.DiscardHandler), "the development UI's server")
	if err != nil {
		return fmt.Errorf("--listen %s: %w", listen, err)
	}
	fmt.Fprintf(out, "The development UI of %s is at http://%s%s (Ctrl-C stops it)\n", addr, srv.Addr(), devui.BasePath)

	select {
	case <-ctx.Done():
	case <-srv.Done():
		return fmt.Errorf("serve the development UI: %w", srv.Err())
	}
	h.Close()
	sctx, cancelStop := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelStop()
	if err := srv.Stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("stop the development UI: %w", err)
	}
	return nil
}
