package titan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	httptransport "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/netron/validate"

	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// ServiceOption configures a service declared with [Service].
type ServiceOption = netron.ServiceOption

// MethodOption configures one method of a service ([Method]).
type MethodOption = netron.MethodOption

// Service declares the service name@version, implemented by what
// constructor returns. constructor is an fx-style constructor (its
// arguments are injected; it may also return an error) or a ready value.
// The service is exposed on every listener of the app (see [Listen] and
// netron.listen), unless [Transports] restricts it. Its public methods are
// the exported methods whose first argument is a context.Context and that
// return (T, error), error, or iter.Seq2[T, error]; contracts are derived
// from their Go types. Exported methods of other shapes that look meant to
// be public are reported at start-up, a warning per service (an error
// with [Strict]). The constructor's type can be injected elsewhere too;
// inside it the *slog.Logger carries module=name.
func Service(name, version string, constructor any, opts ...ServiceOption) Option {
	desc := fmt.Sprintf("Service(%q, %q, %s)", name, version, funcName(constructor))
	return option{desc, func(s *settings) {
		ct := reflect.TypeOf(constructor)
		var implType reflect.Type
		var provide fx.Option
		switch {
		case isNilFunc(constructor):
			s.errs = append(s.errs, fmt.Errorf("%s: nil constructor", desc))
			return
		case isNil(reflect.ValueOf(constructor)):
			s.errs = append(s.errs, fmt.Errorf("%s: the service is a nil %s", desc, ct))
			return
		case ct.Kind() == reflect.Func:
			if ct.NumOut() == 0 || ct.NumOut() > 2 || (ct.NumOut() == 2 && ct.Out(1) != reflect.TypeFor[error]()) {
				s.errs = append(s.errs, fmt.Errorf("%s: the constructor must return the service, or (service, error)", desc))
				return
			}
			implType = ct.Out(0)
			provide = fx.Provide(constructor)
			s.notes.takes(constructor)
			s.notes.provide(implType)
			s.notes.service(name+"@"+version, funcName(constructor), implType)
		default:
			implType = ct
			provide = fx.Supply(constructor)
			s.notes.provide(implType)
			s.notes.service(name+"@"+version, "", implType)
		}
		if !s.serviceType(implType, desc) {
			return
		}
		// A constructor that returns a nil service (return nil, nil) fails
		// start-up: every call of its methods would panic.
		specType, errType := reflect.TypeFor[netron.ServiceSpec](), reflect.TypeFor[error]()
		toSpec := reflect.MakeFunc(
			reflect.FuncOf([]reflect.Type{implType}, []reflect.Type{specType, errType}, false),
			func(in []reflect.Value) []reflect.Value {
				if isNil(in[0]) {
					err := fmt.Errorf("%s: the constructor returned a nil %s and no error", desc, implType)
					return []reflect.Value{reflect.Zero(specType), reflect.ValueOf(&err).Elem()}
				}
				return []reflect.Value{reflect.ValueOf(netron.ServiceSpec{
					Name: name, Version: version, Impl: in[0].Interface(), Options: opts,
				}), reflect.Zero(errType)}
			})
		s.fx = append(s.fx, fx.Module("service."+name+"@"+version,
			logger.Decorate(name),
			provide,
			fx.Provide(netron.AsService(toSpec.Interface())),
		))
	}}
}

// isNil reports whether v is a nil pointer, map, slice, func, channel or
// interface.
func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// Transports restricts a service to the app's listeners of these transports
// ("tcp", "unix", "ws", ...; in any case); a name that no transport of the
// app has fails start-up. By default it is on every listener.
func Transports(names ...string) ServiceOption { return netron.WithTransports(names...) }

// Contract sets a method's JSON Schemas explicitly instead of deriving them
// from its Go types: in for the positional arguments (an array schema, a
// tuple with prefixItems), out for the result or each stream item. Pass
// nil for either to keep the derived one.
func Contract(method string, in, out json.RawMessage) ServiceOption {
	return netron.WithContract(method, in, out)
}

// Cache caches the results of the service's unary methods for ttl. The
// key is the service, the method, the caller and the arguments, not the
// call's metadata: a method whose result depends on metadata (a tenant, a
// locale) names those keys with [CacheVaryBy], or is not cached. Two
// Cache options with different TTLs fail start-up.
func Cache(ttl time.Duration) ServiceOption { return netron.WithCache(ttl) }

// Method applies options to the method with the given wire name. Several
// Method options for one method add up; an option that sets one value
// ([CacheTTL], [Args], a policy) given twice with different values fails
// start-up, naming both.
func Method(name string, opts ...MethodOption) ServiceOption { return netron.WithMethod(name, opts...) }

// CacheTTL caches one method's results for ttl (0 turns caching off).
func CacheTTL(ttl time.Duration) MethodOption { return netron.WithCacheTTL(ttl) }

// SkipOutputValidation sends the method's results (or stream items)
// without checking them against its output contract — they are the
// service's own code — while its arguments are still checked:
// titan.Method("report", titan.SkipOutputValidation()).
func SkipOutputValidation() MethodOption { return validate.SkipOutput() }

// Idempotent marks a method idempotent (running it twice has the effect
// of running it once): titan.Method("get", titan.Idempotent()). A
// titan.Remote client sends such a call again to another instance when its
// connection was lost mid-call; other calls are sent again only when they
// certainly did not run. The mark is published in the method's metadata.
func Idempotent() MethodOption { return netron.WithIdempotent() }

// Args names a method's positional arguments, one name per argument:
// titan.Method("add", titan.Args("a", "b")). Error messages use them
// ("argument 2 (b): want a number, got a string"), and they are published
// in the method's contract (each prefixItems entry's "title") for peers,
// the CLI and the dev UI.
func Args(names ...string) MethodOption { return netron.WithArgs(names...) }

// Listen adds addresses (URLs such as tcp://127.0.0.1:7070) the app serves
// on, in addition to netron.listen from the configuration.
func Listen(addrs ...string) Option {
	return option{"Listen(" + quoted(addrs) + ")", func(s *settings) {
		list := append([]string(nil), addrs...)
		s.fx = append(s.fx, fx.Supply(fx.Annotated{Group: netron.ListenGroup, Target: list}))
	}}
}

// Interceptors adds interceptors to every call the app serves and makes;
// the first is the outermost, and those of a later Interceptors option run
// inside those of an earlier one. It is an app-level option.
func Interceptors(ics ...netron.Interceptor) Option {
	desc := fmt.Sprintf("Interceptors(%d)", len(ics))
	return appLevel(desc, func(s *settings) {
		if s.refuseNil(desc, "interceptor", toAny(ics), func(ic any) bool { return ic == nil }) {
			return
		}
		s.interceptors = append(s.interceptors, ics...)
	})
}

// ClientOption configures a client of remote services, a [Remote]: it is
// netron.ClientOption, the one option type of the client scope, which
// netron.Dial, netron's Netron.NewPool and the HTTP client of
// modules/netron/http take too. [At] is netron.WithAddress; the
// [CallPolicy] options are titan's; any other client option of a pool
// (netron.WithBalancer, netron.WithBearerToken, netron.WithInterceptors,
// ...) may be given.
type ClientOption = netron.ClientOption

// RemoteOption configures a [Remote] client.
//
// Deprecated: use [ClientOption], the same type.
type RemoteOption = ClientOption

// At sets the address of the process serving a [Remote] service. It is
// netron.WithAddress: an address that is not a URL fails start-up, and so
// do two At options with different addresses.
func At(addr string) ClientOption { return netron.WithAddress(addr) }

// remoteParams are what a Remote's client is built from.
type remoteParams struct {
	fx.In

	Lifecycle fx.Lifecycle
	Netron    *netron.Netron
	Resolver  netron.Resolver
	Log       *slog.Logger
	Config    *config.Config
	// Observers are told of the state changes of the remote's breakers.
	Observers []resilience.StateObserver `group:"titan.resilience.observers"`
}

// Remote provides a T, a struct of func fields bound to the remote service
// target ("calculator@^1") as netron's Peer.Bind does. The address comes
// from [At], else from the app's netron.Resolver: netron.remotes.<service
// name> in the configuration, unless a discovery module provides its
// registry. Calls are spread over the instances found by the balancer
// (discovery.balancer) and go through the remote's [CallPolicy] options:
// [Retry] — by default the failover, which sends a call that did not run,
// or a call of an [Idempotent] method whose connection was lost, to
// another instance —, [CircuitBreaker], [Bulkhead], [Timeout], per
// method with [ForMethod]. The connections are made when the app starts
// (start-up fails if the remote cannot be reached, or if T's fields do
// not match the service's definition there: see netron's
// Peer.CheckClient) and are restored after drops. Start-up waits for a
// remote that the registry does not show yet (a service starting beside
// the app), up to netron.WithConnectWait (by default
// netron.handshakeTimeout, 10s), and fails if no instance of it connects
// by then, saying what the resolver last said.
func Remote[T any](target string, opts ...ClientOption) Option {
	var (
		policies   resilience.Policies
		forMethods []forMethod
		pass       []ClientOption // the options NewPool takes as they are
		addrGiven  bool
		conflicts  []error                    // two policies of a kind
		kinds      = policyKinds{}            // the remote's policies
		methods    = map[string]policyKinds{} // the ForMethod policies of each method
	)
	descs := make([]string, len(opts))
	for i, o := range opts {
		switch o := o.(type) {
		case nil:
			descs[i] = "nil"
			continue
		case callPolicy:
			conflicts = append(conflicts, kinds.add(o.kind, o.String(), "a remote"))
			if o.err == nil {
				o.fn(&policies)
			}
		case forMethodOption:
			conflicts = append(conflicts, methodConflicts(methods, o)...)
			o.apply(&policies)
			forMethods = append(forMethods, forMethod{o.method, o.String()})
		default:
			pass = append(pass, o)
			// titan.At and netron.WithAddress print so (TestOptionsPairWithNetron).
			addrGiven = addrGiven || strings.HasPrefix(o.String(), "At(")
		}
		descs[i] = o.String()
	}
	desc := fmt.Sprintf("Remote[%s](%q%s)", reflect.TypeFor[T](), target, strings.Join(append([]string{""}, descs...), ", "))
	if policies.Retry == nil {
		policies.Retry = &RetryConfig{} // the failover
	}
	return option{desc, func(s *settings) {
		if _, err := netron.ParseTarget(target); err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: %w", desc, err))
			return
		}
		if err := errors.Join(errors.Join(conflicts...), netron.CheckPoolOptions(opts...), checkMethods(reflect.TypeFor[T](), forMethods)); err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: %w", desc, err))
			return
		}
		s.notes.provide(reflect.TypeFor[T]())
		s.fx = append(s.fx, fx.Provide(func(p remoteParams) (T, error) {
			var client T
			popts := []ClientOption{netron.WithLogger(p.Log)}
			if dc, err := config.Section[discovery.Config](p.Config, "discovery"); err == nil && dc.Balancer != "" {
				popts = append(popts, netron.WithBalancer(dc.Balancer))
			}
			popts = append(popts, netron.WithClientInterceptors("CallPolicies", nil, func(ci netron.ClientInfo) []netron.Interceptor {
				return policies.Interceptors(target, resilience.ChainOptions{
					Idempotent:    idempotent(ci),
					OnStateChange: breakerWatch(p.Log, p.Observers),
				})
			}))
			pool, err := p.Netron.NewPool(target, p.Resolver, append(popts, pass...)...)
			if err != nil {
				return client, fmt.Errorf("%s: %w", desc, err)
			}
			if err := pool.Bind(&client); err != nil {
				return client, fmt.Errorf("%s: %w", desc, err)
			}
			p.Lifecycle.Append(fx.Hook{
				OnStart: func(ctx context.Context) error {
					if err := pool.Start(ctx); err != nil {
						if !addrGiven {
							return fmt.Errorf("%s: %w (or give an address with titan.At)", desc, err)
						}
						return fmt.Errorf("%s: %w", desc, err)
					}
					if err := pool.Check(ctx, &client); err != nil {
						_ = pool.Close() // OnStop does not run for a hook that failed
						if !addrGiven && errors.Is(err, netron.ErrNotRun) {
							// No instance connected within the pool's wait.
							return fmt.Errorf("%s: %w (or give an address with titan.At)", desc, err)
						}
						return fmt.Errorf("%s: %w", desc, err)
					}
					return nil
				},
				OnStop: func(context.Context) error { return pool.Close() },
			})
			return client, nil
		}))
	}}
}

// breakerWatch logs the state changes of a remote's circuit breakers and
// tells the app's observers.
func breakerWatch(log *slog.Logger, observers []resilience.StateObserver) func(resilience.StateChange) {
	return func(c resilience.StateChange) {
		level := slog.LevelInfo
		if c.To == resilience.Open {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "circuit breaker "+c.To.String(), "breaker", c.Breaker, "from", c.From.String())
		for _, o := range observers {
			o(c)
		}
	}
}

// HTTP serves the service's methods as JSON routes under path on the app's
// HTTP listeners: titan.HTTP("/api/calculator") gives
// POST /api/calculator/add with the arguments as a JSON array (or the
// single struct argument as an object). A service has one path: two HTTP
// options with different paths fail start-up.
func HTTP(path string) ServiceOption { return httptransport.Path(path) }
