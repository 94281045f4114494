package otlphttp

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/titanframework/titan/modules/tracing"
)

// Name is the exporter's name in tracing.exporter.
const Name = "otlphttp"

func init() { tracing.RegisterExporter(Name, New) }

// New returns the exporter to cfg.Endpoint. It sends nothing until the
// first batch of spans.
func New(ctx context.Context, cfg tracing.Config) (sdktrace.SpanExporter, error) {
	var opts []otlptracehttp.Option
	if cfg.Endpoint != "" {
		u, err := endpointURL(cfg.Endpoint)
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	return otlptracehttp.New(ctx, opts...) // an error is named tracing.exporter otlphttp by the app's start
}

// endpointURL checks an endpoint and gives it the standard path when it
// has none.
func endpointURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("tracing.endpoint %q: want the URL of an OTLP/HTTP receiver, such as http://collector:4318", shown(endpoint, u))
	}
	// The exporter takes the URL's host and path only: what else it holds
	// would be dropped without a word (credentials go in headers).
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("tracing.endpoint %q: want a URL without user, query or fragment (the exporter sends none of them); give credentials as headers in OTEL_EXPORTER_OTLP_HEADERS", shown(endpoint, u))
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// shown returns the endpoint, u parsed (nil when it does not parse), as an
// error names it: without its user (a password, or a token as the user),
// query (an api_key=) and fragment, which may hold credentials; one that
// does not parse loses everything up to its last '@' and from its '?' or
// '#'.
func shown(endpoint string, u *url.URL) string {
	if u == nil {
		scheme, rest, ok := strings.Cut(endpoint, "://")
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			rest = rest[i+1:]
		}
		if i := strings.IndexAny(rest, "?#"); i >= 0 {
			rest = rest[:i]
		}
		if ok {
			return scheme + "://" + rest
		}
		return rest
	}
	v := *u
	if i := strings.LastIndex(v.Opaque, "@"); i >= 0 { // user:password@host, no "//"
		v.Opaque = v.Opaque[i+1:]
	}
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	return v.String()
}
