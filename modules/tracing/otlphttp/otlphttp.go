package otlphttp

import (
	"context"
	"fmt"
	"net/url"

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
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing.exporter otlphttp: %w", err)
	}
	return exp, nil
}

// endpointURL checks an endpoint and gives it the standard path when it
// has none.
func endpointURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("tracing.endpoint %q: want the URL of an OTLP/HTTP receiver, such as http://collector:4318", endpoint)
	}
	// The exporter takes the URL's host and path only: what else it holds
	// would be dropped without a word (credentials go in headers).
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("tracing.endpoint %q: want a URL without user, query or fragment (the exporter sends none of them); give credentials as headers in OTEL_EXPORTER_OTLP_HEADERS", u.Redacted())
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}
