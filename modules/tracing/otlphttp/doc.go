// Package otlphttp registers the "otlphttp" span exporter of the tracing
// module: spans go in batches to an OpenTelemetry collector (or any OTLP
// receiver) as OTLP protobuf over HTTP. Linking the package makes the
// name available:
//
//	import _ "github.com/titanframework/titan/modules/tracing/otlphttp"
//
// with, in the app's configuration:
//
//	tracing:
//	  exporter: otlphttp
//	  endpoint: http://collector:4318   # default: OTEL_EXPORTER_OTLP_* or http://localhost:4318
//
// An endpoint without a path gets the standard /v1/traces; http:// sends
// in clear, https:// over TLS. It holds no user, query or fragment, which
// the exporter would not send: credentials go in OTEL_EXPORTER_OTLP_HEADERS. The exporter's OTEL_EXPORTER_OTLP_*
// environment variables (headers, timeout, compression, ...) apply.
//
// OTLP over gRPC has no package: OTLP over HTTP does the same work with
// a smaller client. (The OpenTelemetry OTLP/HTTP exporter's configuration
// code, shared with its gRPC sibling, imports gRPC packages: programs that
// import this package link them; the tracing module alone does not.)
package otlphttp
