package http

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport"
)

// DefaultMaxBodySize is the largest request body accepted when no
// [WithMaxBodySize] option or maxBody query parameter is given: 10 MiB, the
// limit of the original TypeScript server (NETRON-WIRE.md §11.1).
const DefaultMaxBodySize = 10 << 20

// DefaultMaxBodyMemory is the most bytes of request bodies a gateway holds
// at once, all requests together, when no [WithMaxBodyMemory] option is
// given: 256 MiB, room for 25 bodies of the default largest size
// ([DefaultMaxBodySize]) and thousands of small ones. When [WithMaxBodySize]
// allows a larger body, the default is that size.
const DefaultMaxBodyMemory = 256 << 20

// DefaultTimeout bounds a unary call when no [WithTimeout] option is
// given: 30 s, the default of the original's hints.timeout, which may only
// shorten it.
const DefaultTimeout = 30 * time.Second

// DefaultMaxBatchSize is the most requests one POST /netron/batch may
// carry when no [WithMaxBatchSize] option is given: 100, ten batches of
// netron-browser's RequestBatcher, whose maxBatchSize defaults to 10 (the
// original server has no limit).
const DefaultMaxBatchSize = 100

// DefaultWriteTimeout bounds each write of an answer when no
// [WithWriteTimeout] option is given: 30 s.
const DefaultWriteTimeout = 30 * time.Second

// DefaultStreamKeepAlive is how long a stream answered as Server-Sent
// Events may send nothing when no [WithStreamKeepAlive] option is given:
// 15 s, well within the idle timeouts of common proxies and load balancers
// (60 s).
const DefaultStreamKeepAlive = 15 * time.Second

// maxStreamItems caps the items of a stream drained into one JSON array, as
// the original does (NETRON-WIRE.md §11.2).
const maxStreamItems = 10000

// Option configures a gateway made by [NewHandler] or [Listen].
type Option interface {
	apply(*config)
	String() string
}

type option struct {
	desc string
	fn   func(*config)
}

func (o option) apply(c *config) { o.fn(c) }
func (o option) String() string  { return o.desc }

// CORS is the cross-origin policy of a gateway (NETRON-WIRE.md §11.8).
type CORS struct {
	// Origins lists the allowed origins ("https://app.example"); "*" allows
	// every origin. Allowed origins are echoed in Access-Control-Allow-Origin.
	Origins []string `json:"origins,omitempty"`
	// Credentials adds Access-Control-Allow-Credentials: true, which lets
	// the pages of the allowed origins call with their visitors' cookies
	// and HTTP authentication and read the answers. It needs the origins
	// listed: with "*" among Origins it is an error ([WithCORS]).
	Credentials bool `json:"credentials,omitempty"`
}

// anyOriginWithCredentials reports whether c lists "*" with Credentials.
// The gateway echoes the origin it allows, so that would grant
// credentialed calls to every web site, which browsers refuse for a
// literal "*" on purpose: each form of the setting reports it as an error.
func (c CORS) anyOriginWithCredentials() bool {
	return c.Credentials && slices.Contains(c.Origins, "*")
}

// anyOriginRisk says why "*" with credentials is refused, in the error of
// each form of the setting.
const anyOriginRisk = "would let a page of any web site call the gateway with its visitors' cookies and read the answers"

// originProblem says what is wrong with o as an allowed origin, or "".
// A browser's Origin header is scheme://host[:port], with no path, query
// or trailing slash, or the word null; "*" allows every origin.
func originProblem(o string) string {
	if o == "*" || o == "null" {
		return ""
	}
	u, err := url.Parse(o)
	switch {
	case o == "":
		return "an empty origin"
	case err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("origin %q is not scheme://host[:port], as a browser's Origin header is", o)
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#"):
		return fmt.Sprintf("origin %q has more than scheme://host[:port] (no browser sends a path, a query or a trailing slash: %q)", o, u.Scheme+"://"+u.Host)
	}
	return ""
}

// cleaned returns c with its origins in a slice of its own (the caller's
// is not kept), each trimmed of spaces ("cors=a, b").
func (c CORS) cleaned() CORS {
	c.Origins = slices.Clone(c.Origins)
	for i, o := range c.Origins {
		c.Origins[i] = strings.TrimSpace(o)
	}
	return c
}

// originProblems says what is wrong with each origin of c no browser
// sends, naming it by name(i).
func (c CORS) originProblems(name func(i int) string) []string {
	var out []string
	for i, o := range c.Origins {
		if p := originProblem(o); p != "" {
			out = append(out, name(i)+": "+p)
		}
	}
	return out
}

// credentialsWithoutOrigins reports Credentials with no origin listed: it
// would allow nothing, which is not what whoever set it meant.
func (c CORS) credentialsWithoutOrigins() bool { return c.Credentials && len(c.Origins) == 0 }

func (c *CORS) allows(origin string) bool {
	if c == nil || origin == "" {
		return false
	}
	for _, o := range c.Origins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

type config struct {
	scheme          string // "http" or "https": the transport name given to Netron
	maxBody         int64
	maxBodyMem      int64 // WithMaxBodyMemory; 0: DefaultMaxBodyMemory, or maxBody when larger
	maxBatch        int
	timeout         time.Duration
	writeTimeout    time.Duration
	streamKeepAlive time.Duration
	limits          *transport.Options // of the HTTP server (TLS, MaxFrameSize unused); nil: the Netron's
	tls             *tls.Config
	cors            *CORS
	prefix          string
	auth            netron.Authenticator
	gzipMin         int      // WithCompression; 0: no compression
	problemOpts     []string // misconfigured options, reported by NewHandler
}

// DefaultCompressionMinSize is the smallest JSON answer a gateway
// compresses with gzip when the client asks for it (WithCompression).
const DefaultCompressionMinSize = 1024

func defaultConfig() config {
	return config{
		scheme: "http", maxBody: DefaultMaxBodySize, maxBatch: DefaultMaxBatchSize,
		timeout: DefaultTimeout, writeTimeout: DefaultWriteTimeout, gzipMin: DefaultCompressionMinSize,
		streamKeepAlive: DefaultStreamKeepAlive,
	}
}

// WithCompression sets the smallest JSON answer (in bytes) that a [Gateway]
// compresses with gzip for clients that accept it (Accept-Encoding: gzip;
// default [DefaultCompressionMinSize]); 0 turns compression off. Streams
// (Server-Sent Events, NDJSON) are never compressed, so that their items
// arrive as they are sent.
func WithCompression(minSize int) Option {
	return option{fmt.Sprintf("WithCompression(%d)", minSize), func(c *config) {
		if minSize < 0 {
			c.problemOpts = append(c.problemOpts, fmt.Sprintf("WithCompression(%d): the size must not be negative", minSize))
			return
		}
		c.gzipMin = minSize
	}}
}

// WithMaxBodySize sets the largest request body in bytes (default
// [DefaultMaxBodySize]); a larger body is answered 413.
func WithMaxBodySize(n int64) Option {
	return option{fmt.Sprintf("WithMaxBodySize(%d)", n), func(c *config) {
		if n <= 0 {
			c.problemOpts = append(c.problemOpts, fmt.Sprintf("WithMaxBodySize(%d): the size must be positive", n))
			return
		}
		c.maxBody = n
	}}
}

// WithMaxBodyMemory sets the most bytes of request bodies the gateway holds
// at once, all requests together (default [DefaultMaxBodyMemory], or the
// largest body of [WithMaxBodySize] when that is larger); each gateway
// ([Listen], [NewHandler]) has its own. A body counts until its handler is
// done with it and with the arguments decoded from it: until its answer is
// written; a stream answered as SSE or NDJSON, which has no timeout, counts
// the bytes of its decoded arguments instead of the body's until it ends.
// A body whose length is
// announced (Content-Length) counts whole before any of it is read; another
// counts as its buffer grows. A request that does not fit is answered 503
// unavailable naming the limit, with Retry-After, and its connection is
// closed without the rest of its body being read; requests that fit are
// served as usual. n must be at least the largest body (WithMaxBodySize),
// which could otherwise never be read.
func WithMaxBodyMemory(n int64) Option {
	return option{fmt.Sprintf("WithMaxBodyMemory(%d)", n), func(c *config) {
		if n <= 0 {
			c.problemOpts = append(c.problemOpts, fmt.Sprintf("WithMaxBodyMemory(%d): the size must be positive", n))
			return
		}
		c.maxBodyMem = n
	}}
}

// checkBodyMemory sets the default of maxBodyMem, or reports a limit that
// a body of the largest size would not fit in.
func (c *config) checkBodyMemory() {
	if c.maxBodyMem == 0 {
		c.maxBodyMem = max(DefaultMaxBodyMemory, c.maxBody)
		return
	}
	if c.maxBodyMem < c.maxBody {
		c.problemOpts = append(c.problemOpts, fmt.Sprintf(
			"WithMaxBodyMemory(%d): below the largest request body, %d bytes (WithMaxBodySize), which could never be read", c.maxBodyMem, c.maxBody))
	}
}

// WithMaxBatchSize sets the most requests one POST /netron/batch may carry
// (default [DefaultMaxBatchSize]); a batch of more is answered 413 before
// any of its requests runs.
func WithMaxBatchSize(n int) Option {
	return option{fmt.Sprintf("WithMaxBatchSize(%d)", n), func(c *config) {
		if n <= 0 {
			c.problemOpts = append(c.problemOpts, fmt.Sprintf("WithMaxBatchSize(%d): the size must be positive", n))
			return
		}
		c.maxBatch = n
	}}
}

// WithWriteTimeout bounds each write of an answer (default
// [DefaultWriteTimeout]): every write and flush of the gateway's answers —
// a unary result, an error, each item of a stream answered as SSE or
// NDJSON — must be taken by the client within d, or the connection is
// closed and the call that produces the answer is cancelled. A large
// answer is written in parts of 64 KiB, each with its own d, so d bounds a
// client that stops reading, not the length of an answer or of a stream
// that is read. The answers of the mounts of [WithMounts] have d too; a
// connection a mount takes over (http.Hijacker, as a WebSocket upgrade
// does) has no write deadline from then on.
func WithWriteTimeout(d time.Duration) Option {
	return option{fmt.Sprintf("WithWriteTimeout(%v)", d), func(c *config) {
		if d <= 0 {
			c.problemOpts = append(c.problemOpts, fmt.Sprintf("WithWriteTimeout(%v): the timeout must be positive", d))
			return
		}
		c.writeTimeout = d
	}}
}

// WithStreamKeepAlive sets how long a stream answered as Server-Sent Events
// may send nothing (default [DefaultStreamKeepAlive]): after every d
// without an item it sends the comment line ": keep-alive", which clients
// skip, so that proxies that close idle connections leave it open. A
// stream whose first item takes longer than d sends its status (200) and
// headers with the first of them, so that the client knows the call is
// under way; a failure is then the stream's "event: error" rather than an
// error status. NDJSON answers, which have no line that is not an item,
// send nothing between items.
func WithStreamKeepAlive(d time.Duration) Option {
	return option{fmt.Sprintf("WithStreamKeepAlive(%v)", d), func(c *config) {
		if d <= 0 {
			c.problemOpts = append(c.problemOpts, fmt.Sprintf("WithStreamKeepAlive(%v): the period must be positive", d))
			return
		}
		c.streamKeepAlive = d
	}}
}

// WithTimeout sets the timeout of unary calls (default [DefaultTimeout]);
// a /netron/invoke or /netron/batch request may shorten it for its call
// with hints.timeout, not lengthen it: a longer hint gets d. The requests
// of a /netron/batch take at most d together. Streams
// answered as SSE or NDJSON have no timeout: they end when the method ends
// or the client goes away (or stops reading: see [WithWriteTimeout]).
func WithTimeout(d time.Duration) Option {
	return option{fmt.Sprintf("WithTimeout(%v)", d), func(c *config) {
		if d <= 0 {
			c.problemOpts = append(c.problemOpts, fmt.Sprintf("WithTimeout(%v): the timeout must be positive", d))
			return
		}
		c.timeout = d
	}}
}

// WithLimits sets the connection limits of the HTTP server [Listen] starts, from the fields
// of o that [transport.Options] documents: HandshakeTimeout (the TLS handshake and the
// request header, 10 s by default), FrameTimeout and FrameMinRate (a request body must arrive
// within 15 s or at 64 KiB per 10 s; a slower one is answered 408 and its connection closed),
// MaxConns (10,000) and MaxConnsPerIP (no cap), MaxHeaderBytes (64 KiB, 431 above),
// HTTPIdleTimeout (2 min) and Logger for the warnings about refused connections (default: the
// Netron's logger). o.TLS and o.MaxFrameSize are not used: see [WithTLS] and
// [WithMaxBodySize]. A ws:// listener on the same address must have the same limits.
// Without this option the gateway takes those of the Netron's configuration
// ([netron.Netron.ListenOptions]).
func WithLimits(o transport.Options) Option {
	return option{"WithLimits", func(c *config) {
		o.TLS, o.MaxFrameSize = nil, 0
		if err := o.Validate(); err != nil {
			c.problemOpts = append(c.problemOpts, "WithLimits: "+err.Error())
			return
		}
		c.limits = &o
	}}
}

// WithTLS serves https with cfg, which must hold a certificate
// (Certificates or GetCertificate). [Listen] then reports an https:// address.
func WithTLS(cfg *tls.Config) Option {
	return option{"WithTLS", func(c *config) { c.tls = cfg; c.scheme = "https" }}
}

// WithCORS answers cross-origin requests from the allowed origins: their
// preflights allow the request headers the gateway reads (Authorization,
// X-Request-ID, the trace context, [TitanPeerHeader]), and its answers
// expose the headers it sends (X-Request-ID, X-Titan-Code, Retry-After,
// ...). The paths of mounts ([WithMounts]) are left to them. Without it,
// responses carry no Access-Control-* headers and preflight requests get a
// bare 204.
//
// Credentials need the allowed origins listed: "*" among the origins with
// Credentials is an error of [NewHandler] and [Listen], since it would let
// any web site make calls with its visitors' cookies.
//
// Each origin is what a browser sends in its Origin header:
// scheme://host[:port] ("https://app.example:8443"), without a path or a
// trailing slash, or "null"; another form is an error, since it would
// never match.
func WithCORS(cors CORS) Option {
	cors = cors.cleaned()
	desc := fmt.Sprintf("WithCORS(%s)", strings.Join(cors.Origins, ","))
	problems := cors.originProblems(func(int) string { return desc })
	switch {
	case cors.anyOriginWithCredentials():
		problems = append(problems, desc+`: Origins "*" with Credentials `+anyOriginRisk+
			`: list the allowed origins in Origins instead of "*", or drop Credentials`)
	case cors.credentialsWithoutOrigins():
		problems = append(problems, desc+": Credentials with no Origins allows nothing: list the origins whose pages may call with credentials")
	}
	return option{desc, func(c *config) {
		if len(problems) > 0 {
			c.problemOpts = append(c.problemOpts, problems...)
			return
		}
		c.cors = &cors
	}}
}

// WithPathPrefix serves every route under prefix as well ("/api" makes
// /api/netron/invoke an alias of /netron/invoke), as the original's
// pathPrefix does.
func WithPathPrefix(prefix string) Option {
	return option{fmt.Sprintf("WithPathPrefix(%q)", prefix), func(c *config) {
		if !strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") {
			c.problemOpts = append(c.problemOpts, fmt.Sprintf("WithPathPrefix(%q): the prefix must start with '/' and not end with one", prefix))
			return
		}
		c.prefix = prefix
	}}
}

// WithAuthenticator answers POST /netron/authenticate with a. It is called
// with a nil peer (HTTP has none) and the credentials as a Netron value
// (a [protocol.Object] for a JSON object); its result is sent as the
// "result" of the answer. Without it the route answers 503
// "Authentication not configured", as the original does. a gets the
// Netron's TaskTimeout (netron.taskTimeout), as the engine's authenticate
// task does: past it the attempt is answered as a failed authentication
// naming the limit, and the request ends when a returns; a panic in a is
// answered as an internal error.
func WithAuthenticator(a netron.Authenticator) Option {
	return option{"WithAuthenticator", func(c *config) { c.auth = a }}
}

// queryOptions names, for each query parameter a listen URL may still
// carry, the configuration key and the Go option that replace it.
var queryOptions = [...][3]string{
	{"maxBody", "http.maxBody", "WithMaxBodySize"},
	{"timeout", "http.timeout", "WithTimeout"},
	{"cors", "http.cors.origins", "WithCORS"},
	{"corsCredentials", "http.cors.credentials", "WithCORS"},
	{"prefix", "http.prefix", "WithPathPrefix"},
	{"cert", "http.cert", "WithTLS"},
	{"key", "http.key", "WithTLS"},
}

// optionsFromURL reads the options a listen URL carries in its query, the
// deprecated form of the `http` section (Config) and of
// WithGatewayOptions:
//
//	maxBody=BYTES        largest request body (default 10485760)
//	timeout=DURATION     timeout of unary calls (default 30s)
//	cors=ORIGINS         comma-separated allowed origins, or *
//	corsCredentials=true add Access-Control-Allow-Credentials (with cors
//	                     listing the origins: not with *)
//	prefix=/PATH         serve the routes under /PATH too
//	cert=FILE&key=FILE   PEM certificate and key (required for https)
//
// It returns what replaces each parameter given, for the warning.
func optionsFromURL(u *url.URL) (opts []Option, instead []string, err error) {
	q := u.Query()
	var errs []error
	known := make([]string, len(queryOptions))
	for i, o := range queryOptions {
		known[i] = o[0]
	}
	for k, v := range q {
		switch {
		case !slices.Contains(known, k):
			errs = append(errs, fmt.Errorf("unknown query parameter %q (known: %s)", k, strings.Join(known, ", ")))
		case len(v) > 1: // one value is read: a second would be dropped unnoticed
			hint := ""
			if k == "cors" {
				hint = ", its origins separated by commas"
			}
			errs = append(errs, fmt.Errorf("query parameter %q is given more than once; give it once%s", k, hint))
		}
	}
	for _, o := range queryOptions {
		if q.Has(o[0]) {
			instead = append(instead, fmt.Sprintf("%s=… → %s (%s)", o[0], o[1], o[2]))
		}
	}
	var c Config
	if s := q.Get("maxBody"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("maxBody=%q: want a positive number of bytes", s))
		}
		c.MaxBody = max(n, 0)
	}
	if s := q.Get("timeout"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("timeout=%q: want a positive duration such as 30s", s))
		}
		c.Timeout = max(d, 0)
	}
	if s := q.Get("cors"); s != "" {
		c.CORS.Origins = strings.Split(s, ",")
	}
	if v := q.Get("corsCredentials"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("corsCredentials=%q: want true or false", v))
		}
		c.CORS.Credentials = b
	}
	c.CORS = c.CORS.cleaned()
	for _, p := range c.CORS.originProblems(func(int) string { return "cors=" + q.Get("cors") }) {
		errs = append(errs, errors.New(p))
	}
	switch {
	case c.CORS.anyOriginWithCredentials():
		errs = append(errs, fmt.Errorf("cors=%s with corsCredentials=%s %s: list the allowed origins in cors= instead of *, or drop corsCredentials",
			q.Get("cors"), q.Get("corsCredentials"), anyOriginRisk))
	case c.CORS.credentialsWithoutOrigins():
		errs = append(errs, fmt.Errorf("corsCredentials=%s without cors= allows nothing: list the origins whose pages may call with credentials in cors=", q.Get("corsCredentials")))
	}
	c.Prefix = q.Get("prefix")
	c.Cert, c.Key = q.Get("cert"), q.Get("key")
	if (c.Cert == "") != (c.Key == "") {
		errs = append(errs, errors.New("cert and key must be given together"))
		c.Cert, c.Key = "", ""
	}
	if len(errs) == 0 {
		opts, err = c.options("")
		errs = append(errs, err)
	}
	return opts, instead, errors.Join(errs...)
}

// PathExtension is the key of the service extension ([netron.WithExtension])
// that [Path] records.
const PathExtension = "http.path"

// Path serves a service's methods as JSON routes under path on the HTTP
// listeners: POST <path>/<method>, with the positional arguments as a JSON
// array (or the single struct argument as an object). path starts with '/'
// and does not end with one. It is titan.HTTP.
func Path(path string) netron.ServiceOption {
	return netron.WithExtension("HTTP", PathExtension, path, func(v any) error {
		p, _ := v.(string)
		if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") && p != "/" {
			return errors.New("the path must start with '/' and not end with one")
		}
		return nil
	})
}
