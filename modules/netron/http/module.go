package http

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/fx"

	titanconfig "github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/linked"
	"github.com/titanframework/titan/modules/netron"
)

// Linking this package (titan's root does) adds Module to every Titan app
// of the program: the `http` section.
func init() { linked.Register("titan.http", Module) }

// Config is the `http` configuration section: the options of every
// http:// and https:// gateway of the app, each the Go option of the same
// name ([WithGatewayOptions] of [WithMaxBodySize], [WithMaxBodyMemory],
// [WithMaxBatchSize], [WithTimeout], [WithWriteTimeout],
// [WithStreamKeepAlive], [WithCORS], [WithPathPrefix], [WithTLS]). They replace the listen URL's
// query parameters of the same names, which still work, deprecated.
type Config struct {
	// MaxBody is the largest request body in bytes (0: 10 MiB).
	MaxBody int64 `json:"maxBody,omitempty" jsonschema:"minimum=0,description=Largest request body in bytes (0: 10 MiB)"`
	// MaxBodyMemory is the most bytes of request bodies the gateway holds
	// at once, all requests together (0: 256 MiB, or MaxBody when larger);
	// a request that does not fit is answered 503. It must be at least
	// MaxBody.
	MaxBodyMemory int64 `json:"maxBodyMemory,omitempty" jsonschema:"minimum=0,description=Bytes of request bodies held at once by all requests; a request over it is answered 503 (0: 256 MiB or maxBody when larger)"`
	// MaxBatch is the most requests one POST /netron/batch may carry (0: 100).
	MaxBatch int `json:"maxBatch,omitempty" jsonschema:"minimum=0,description=Most requests in one /netron/batch (0: 100)"`
	// Timeout bounds unary calls (0: 30s), and the requests of a
	// /netron/batch together; a request's hints.timeout may only shorten it.
	Timeout time.Duration `json:"timeout,omitempty" jsonschema:"description=Timeout of unary calls and of the requests of a /netron/batch together; a request's hints.timeout may only shorten it (0: 30s)"`
	// WriteTimeout bounds each write of an answer: a client that takes
	// none of it for that long is cut (0: 30s).
	WriteTimeout time.Duration `json:"writeTimeout,omitempty" jsonschema:"description=Longest wait for a client to take each write of an answer (0: 30s)"`
	// StreamKeepAlive is the longest silence of a stream answered as
	// Server-Sent Events: after it a comment line keeps proxies from
	// closing the connection as idle (0: 15s).
	StreamKeepAlive time.Duration `json:"streamKeepAlive,omitempty" jsonschema:"description=Longest silence of a stream answered as Server-Sent Events before a keep-alive comment line (0: 15s)"`
	// CORS lists the origins allowed to call across origins; credentials
	// (cors.credentials) need them listed: not with "*".
	CORS CORS `json:"cors,omitempty"`
	// Prefix serves every route under this path as well ("/api").
	Prefix string `json:"prefix,omitempty" jsonschema:"description=Serve the routes under this path too"`
	// Cert and Key are PEM files of the certificate of https:// gateways
	// (else the Netron's TLS configuration, security.tls).
	Cert string `json:"cert,omitempty" jsonschema:"description=PEM certificate file of https gateways"`
	Key  string `json:"key,omitempty" jsonschema:"description=PEM key file of https gateways"`
}

// Options returns the gateway options c sets, or what is wrong with it,
// each error naming its key. The certificate (Cert, Key) is an option
// that only https:// gateways take: [WithGatewayOptions] leaves it out of
// http:// ones.
func (c Config) Options() ([]Option, error) { return c.options("http.") }

// keyError is an error of [Config.Options] about the values of keys
// (relative to the section: "cors.origins"), which [Module] completes
// with where those values came from.
type keyError struct {
	keys []string
	err  error
}

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// options is Options with the keys named prefix+key in errors ("http." for
// the section, "" for the deprecated listen URL query).
func (c Config) options(prefix string) ([]Option, error) {
	var opts []Option
	var errs []error
	bad := func(err error, keys ...string) { errs = append(errs, &keyError{keys: keys, err: err}) }
	if c.MaxBody < 0 {
		bad(fmt.Errorf("%smaxBody %d: want a positive number of bytes (0: the default)", prefix, c.MaxBody), "maxBody")
	} else if c.MaxBody > 0 {
		opts = append(opts, WithMaxBodySize(c.MaxBody))
	}
	switch maxBody := cmp.Or(max(c.MaxBody, 0), DefaultMaxBodySize); {
	case c.MaxBodyMemory < 0:
		bad(fmt.Errorf("%smaxBodyMemory %d: want a positive number of bytes (0: the default)", prefix, c.MaxBodyMemory), "maxBodyMemory")
	case c.MaxBodyMemory > 0 && c.MaxBodyMemory < maxBody:
		bad(fmt.Errorf("%smaxBodyMemory %d: below the largest request body, %smaxBody %d, which could never be read", prefix, c.MaxBodyMemory, prefix, maxBody),
			"maxBodyMemory", "maxBody")
	case c.MaxBodyMemory > 0:
		opts = append(opts, WithMaxBodyMemory(c.MaxBodyMemory))
	}
	if c.MaxBatch < 0 {
		bad(fmt.Errorf("%smaxBatch %d: want a positive number of requests (0: the default)", prefix, c.MaxBatch), "maxBatch")
	} else if c.MaxBatch > 0 {
		opts = append(opts, WithMaxBatchSize(c.MaxBatch))
	}
	if c.Timeout < 0 {
		bad(fmt.Errorf("%stimeout %v: want a positive duration (0: the default)", prefix, c.Timeout), "timeout")
	} else if c.Timeout > 0 {
		opts = append(opts, WithTimeout(c.Timeout))
	}
	if c.WriteTimeout < 0 {
		bad(fmt.Errorf("%swriteTimeout %v: want a positive duration (0: the default)", prefix, c.WriteTimeout), "writeTimeout")
	} else if c.WriteTimeout > 0 {
		opts = append(opts, WithWriteTimeout(c.WriteTimeout))
	}
	if c.StreamKeepAlive < 0 {
		bad(fmt.Errorf("%sstreamKeepAlive %v: want a positive duration (0: the default)", prefix, c.StreamKeepAlive), "streamKeepAlive")
	} else if c.StreamKeepAlive > 0 {
		opts = append(opts, WithStreamKeepAlive(c.StreamKeepAlive))
	}
	// Reported here with the keys, rather than by WithCORS at Listen: a
	// titan app fails at start-up, naming where they were set.
	cors := c.CORS.cleaned()
	before := len(errs)
	for _, p := range cors.originProblems(func(i int) string { return fmt.Sprintf("%scors.origins[%d]", prefix, i) }) {
		bad(errors.New(p), "cors.origins")
	}
	switch {
	case cors.anyOriginWithCredentials():
		bad(fmt.Errorf(`%scors.origins "*" with %scors.credentials true %s: list the allowed origins in %scors.origins instead of "*", or set %scors.credentials to false`,
			prefix, prefix, anyOriginRisk, prefix, prefix), "cors.origins", "cors.credentials")
	case cors.credentialsWithoutOrigins():
		bad(fmt.Errorf("%scors.credentials true with no %scors.origins allows nothing: list the origins whose pages may call with credentials in %scors.origins",
			prefix, prefix, prefix), "cors.credentials", "cors.origins")
	case len(errs) == before && len(cors.Origins) > 0:
		opts = append(opts, WithCORS(cors))
	}
	switch {
	case c.Prefix == "":
	case !strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/"):
		bad(fmt.Errorf("%sprefix %q: want a path that starts with '/' and does not end with one, such as /api", prefix, c.Prefix), "prefix")
	default:
		opts = append(opts, WithPathPrefix(c.Prefix))
	}
	switch {
	case (c.Cert == "") != (c.Key == ""):
		bad(fmt.Errorf("%scert and %skey must be given together", prefix, prefix), "cert", "key")
	case c.Cert != "":
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			bad(fmt.Errorf("%scert %q, %skey %q: %w", prefix, c.Cert, prefix, c.Key, err), "cert", "key")
		} else {
			opts = append(opts, httpsOnly{WithTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})})
		}
	}
	return opts, errors.Join(errs...)
}

type gatewayOptionsKey struct{}

// WithGatewayOptions is the Netron option that gives every http:// and
// https:// gateway the Netron opens (netron.Netron.Listen) the gateway
// options opts, as [Listen] takes them (given several times, they add
// up). It is how a program sets them without the listen URL's query,
// which is deprecated; in a titan app the `http` section sets them.
func WithGatewayOptions(opts ...Option) netron.Option {
	opts = slices.Clone(opts)
	return netron.WithValue(gatewayOptionsKey{}, func(old any) any {
		cur, _ := old.([]Option)
		return append(slices.Clone(cur), opts...)
	})
}

// httpsOnly is an option that only https:// gateways take from
// [WithGatewayOptions]: the certificate of the `http` section.
type httpsOnly struct{ Option }

// gatewayOptions returns the options WithGatewayOptions gave n for a
// gateway of scheme.
func gatewayOptions(n netron.Engine, scheme string) []Option {
	opts, _ := n.Value(gatewayOptionsKey{}).([]Option)
	if scheme == "https" {
		return opts
	}
	return slices.DeleteFunc(slices.Clone(opts), func(o Option) bool {
		_, ok := o.(httpsOnly)
		return ok
	})
}

// Module registers the `http` section and gives the app's Netron the
// gateway options it sets. titan.New adds it to every app of a program
// that links this package. A bad value of the section fails the app's
// start-up with an error naming its key and where its value came from.
var Module = fx.Module("titan.http",
	titanconfig.AsSection("http", Config{}),
	fx.Provide(sectionOptions),
)

// sectionResult gives the Netron the options of the `http` section; the
// group is [netron.OptionGroup].
type sectionResult struct {
	fx.Out
	Options []netron.Option `group:"titan.netron.options,flatten"`
}

// sectionOptions reads the `http` section. It is a named function with
// an fx.Out result, not an fx.Annotate'd one, so that its errors are
// reported as Titan's own (fx names an annotated function
// reflect.makeFuncStub).
func sectionOptions(cfg *titanconfig.Config) (sectionResult, error) {
	c, err := titanconfig.Section[Config](cfg, "http")
	if err != nil {
		return sectionResult{}, err
	}
	opts, err := c.Options()
	if err != nil {
		return sectionResult{}, withSources(err, cfg)
	}
	if len(opts) == 0 {
		return sectionResult{}, nil
	}
	return sectionResult{Options: []netron.Option{WithGatewayOptions(opts...)}}, nil
}

// withSources adds to each error of [Config.Options] where the values of
// its keys came from: "(from titan.yaml:12)", or, for several keys,
// "(http.cert from titan.yaml:12, http.key from default)".
func withSources(err error, cfg *titanconfig.Config) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = slices.Clone(j.Unwrap())
	}
	for i, e := range errs {
		ke, ok := e.(*keyError)
		if !ok {
			continue
		}
		if len(ke.keys) == 1 {
			errs[i] = fmt.Errorf("%w (from %s)", ke, cfg.Source("http."+ke.keys[0]))
			continue
		}
		from := make([]string, len(ke.keys))
		for j, k := range ke.keys {
			from[j] = "http." + k + " from " + cfg.Source("http."+k)
		}
		errs[i] = fmt.Errorf("%w (%s)", ke, strings.Join(from, ", "))
	}
	return errors.Join(errs...)
}
