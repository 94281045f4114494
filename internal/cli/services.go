package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/titanframework/titan/modules/discovery"
	_ "github.com/titanframework/titan/modules/discovery/composite"
	_ "github.com/titanframework/titan/modules/discovery/consul" // --registry consul://host:8500
	_ "github.com/titanframework/titan/modules/discovery/etcd"   // --registry etcd://
	_ "github.com/titanframework/titan/modules/discovery/nats"   // --registry nats://
	_ "github.com/titanframework/titan/modules/discovery/redis"  // --registry redis://
	"github.com/titanframework/titan/modules/netron"
)

func init() {
	register("services", newServices)
	// The Redis client logs each failed dial on stderr, before titan's
	// own message says the same (titan: unavailable: --registry ...).
	redis.SetLogger(&logging.VoidLogger{})
}

// registrySchemes are the schemes of --registry: the discovery backends
// imported above that are named by a URL.
var registrySchemes = []string{"consul", "etcd", "nats", "redis"}

// registryForms are the forms of --registry, one per scheme of
// [registrySchemes], for its errors.
var registryForms = []string{"consul://host:8500", "etcd://host:2379", "nats://host:4222", "redis://host:6379/0"}

// registryFlags name a discovery registry: --registry URL, --prefix.
type registryFlags struct {
	url    string
	prefix string
}

func (f *registryFlags) register(fs *pflag.FlagSet, usage string) {
	fs.StringVar(&f.url, "registry", "", usage)
	fs.StringVar(&f.prefix, "prefix", "titan", "first part of the registry's keys (discovery.prefix of the apps)")
}

// check validates --registry, when given: a URL whose scheme is one of
// [registrySchemes]. Its errors are usage errors.
func (f *registryFlags) check() error {
	if f.url == "" {
		return nil
	}
	u, err := url.Parse(f.url)
	if err != nil || u.Scheme == "" || isHostPort(f.url) {
		return &usageError{fmt.Errorf("--registry %q: want a URL such as redis://127.0.0.1:6379/0", f.url)}
	}
	if !slices.Contains(registrySchemes, u.Scheme) {
		msg := fmt.Sprintf("--registry %q: unknown registry %q (titan knows %s)", f.url, u.Scheme, strings.Join(registryForms, ", "))
		switch u.Scheme {
		case "http": // the consul backend's discovery.url
			msg += fmt.Sprintf("; for the Consul agent at http://%s, write consul://%s", u.Host, u.Host)
		case "https":
			msg += "; --registry reaches a Consul agent over plain http only, as consul://host:8500"
		}
		return &usageError{errors.New(msg)}
	}
	return nil
}

// open opens the registry of a checked --registry; its errors say which
// one.
func (f *registryFlags) open(ctx context.Context) (discovery.Registry, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(f.url)
	c := discovery.DefaultConfig()
	c.Backend, c.URL, c.Prefix = u.Scheme, f.url, f.prefix
	r, err := discovery.Open(ctx, c, nil)
	if err != nil {
		// Open names the backend by its configuration key
		// (discovery.backend "redis": ...), which titan's user did not
		// write: the URL of --registry says it.
		if inner := errors.Unwrap(err); inner != nil && strings.HasPrefix(err.Error(), "discovery.backend ") {
			err = inner
		}
		// A URL the backend cannot read (discovery.url "etcd://": want
		// ...) reached nothing: it is bad usage of --registry.
		if rest, ok := strings.CutPrefix(err.Error(), "discovery.url "); ok {
			if quoted, qerr := strconv.QuotedPrefix(rest); qerr == nil {
				if reason, ok := strings.CutPrefix(rest[len(quoted):], ": "); ok {
					return nil, &usageError{fmt.Errorf("--registry %q: %s", discovery.RedactURL(f.url), reason)}
				}
			}
		}
		code := netron.CodeUnavailable
		if errors.Is(err, context.DeadlineExceeded) { // --timeout passed: failure says so
			code = netron.CodeDeadlineExceeded
		}
		return nil, netron.NewError(code, fmt.Errorf("--registry %s: %w", f.url, err))
	}
	return r, nil
}

// resolve returns the address of a healthy instance of target in the
// registry.
func (f *registryFlags) resolve(parent context.Context, remote *remoteFlags, target string) (string, error) {
	t, err := netron.ParseTarget(target)
	if err != nil {
		return "", badTarget(err)
	}
	ctx, cancel := remote.context(parent, true)
	defer cancel()
	r, err := f.open(ctx)
	if err != nil {
		return "", failure(ctx, err)
	}
	defer r.Close()
	addrs, err := (&discovery.Resolver{Registry: r, Backend: f.url}).Resolve(ctx, t)
	if err != nil {
		return "", failure(ctx, err)
	}
	return addrs[0], nil
}

func newServices() *cobra.Command {
	var (
		remote remoteFlags
		reg    registryFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "services --registry URL [SERVICE]",
		Short: "List the services and instances a discovery registry holds",
		Long: `List what the discovery registry at --registry holds: every service with
its instances (id, version, health, addresses), or the instances of
SERVICE (a name, name@version or name@range) only, draining and unhealthy
ones included.

--registry is the registry's URL: redis://127.0.0.1:6379/0,
nats://127.0.0.1:4222, etcd://127.0.0.1:2379 or consul://127.0.0.1:8500 (the apps' discovery.backend
and discovery.url; a Consul agent the apps reach at http://127.0.0.1:8500 is consul://127.0.0.1:8500);
--prefix is their discovery.prefix.`,
		Example: `  titan services --registry redis://127.0.0.1:6379/0
  titan services --registry redis://127.0.0.1:6379/0 users@^1 --json`,
		Args: usage(cobra.RangeArgs(0, 1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := remote.check(); err != nil {
				return err
			}
			if reg.url == "" {
				return &usageError{fmt.Errorf("name the registry with --registry URL")}
			}
			if err := reg.check(); err != nil {
				return err
			}
			var targets []netron.Target
			if len(args) == 1 {
				t, err := netron.ParseTarget(args[0])
				if err != nil {
					return badTarget(err)
				}
				targets = append(targets, t)
			}
			ctx, cancel := remote.context(cmd.Context(), true)
			defer cancel()
			r, err := reg.open(ctx)
			if err != nil {
				return failure(ctx, err)
			}
			defer r.Close()
			if targets == nil {
				l, ok := r.(discovery.Lister)
				if !ok {
					return &usageError{fmt.Errorf("the %s registry cannot list its services: name the SERVICE", reg.url)}
				}
				names, err := l.Services(ctx)
				if err != nil {
					return failure(ctx, err)
				}
				for _, n := range names {
					targets = append(targets, netron.Target{Name: n})
				}
			}
			var all []discovery.Instance
			for _, t := range targets {
				q := discovery.Query{Service: t.Name, Range: t.RangeText, AnyHealth: true}
				if t.Version != "" {
					q.Range = "=" + t.Version
				}
				ins, err := r.Discover(ctx, q)
				if err != nil {
					return failure(ctx, err)
				}
				all = append(all, ins...)
			}
			return writeInstances(cmd.OutOrStdout(), all, asJSON)
		},
	}
	remote.register(cmd.Flags())
	reg.register(cmd.Flags(), "URL of the discovery registry (redis://host:6379/0)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of the instances")
	return cmd
}

// writeInstances prints instances as a table, or as JSON.
func writeInstances(w io.Writer, ins []discovery.Instance, asJSON bool) error {
	if asJSON {
		if ins == nil {
			ins = []discovery.Instance{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(ins)
	}
	if len(ins) == 0 {
		_, err := fmt.Fprintln(w, "no instances")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tHEALTH\tID\tADDRESSES")
	for _, in := range ins {
		fmt.Fprintf(tw, "%s@%s\t%s\t%s\t%s\n", in.Service, in.Version, in.Health, in.ID, strings.Join(in.Addrs, " "))
	}
	return tw.Flush()
}
