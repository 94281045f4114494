// Package tracing traces Netron calls with OpenTelemetry: a server span
// per call and stream served, a client span per call and stream made, and
// the W3C trace context carried from caller to callee, so that a call
// chain across processes and transports is one trace.
//
// # In an app
//
// Importing the package adds [Module] to every titan app of the program
// (package linked):
//
//	import (
//		_ "github.com/titanframework/titan/modules/tracing"
//		_ "github.com/titanframework/titan/modules/tracing/otlphttp" // tracing.exporter: otlphttp
//	)
//
// and the `tracing` section ([Config]) chooses the exporter and the
// sampling ratio:
//
//	tracing:
//	  exporter: otlphttp        # none (default), stdout, otlphttp
//	  ratio: 0.05               # new traces sampled; callers' decisions are followed
//	  endpoint: http://collector:4318
//	  serviceName: billing
//
// Exporters live in packages of their own (stdout, otlphttp) that
// register themselves by name ([RegisterExporter]) when linked; a name in
// the configuration whose package is not linked fails start-up with an
// error naming the import. The app's TracerProvider is its own: built
// with the app, flushed and shut down when it stops (in at most half the
// time left to the stop: the spans a collector has not taken by then are
// dropped, and the stop's error says so), and injected where a
// constructor asks for a trace.TracerProvider. It is not OpenTelemetry's
// global unless tracing.global says so. A batch the collector refuses is
// dropped and reported in the app's log (warning "could not send spans":
// the first failure, then at most one record per 10 s with the count of
// failures in between), not on stderr by OpenTelemetry's error handler.
//
// # On a Netron
//
// [NewInterceptor] gives the [Interceptor] for a Netron built by hand
// (netron.WithInterceptors), with any TracerProvider.
//
// # How the context travels
//
// As "traceparent" (and "tracestate") in the call's metadata: in the call
// header of the Go-to-Go extension on tcp, unix, ws and the other stream
// transports; as the HTTP headers of the same names on http:// (which the
// gateway reads into metadata, and a netron.Dial("http://…") peer sends);
// in the Titan-Metadata header of NATS messages. A peer without the
// extension (a TypeScript Netron) carries no metadata: its calls are
// served as before, each the root of a new trace.
//
// # What else carries the ids
//
// A served call's error carries its span's trace and span ids to the
// caller in the TitanError's traceId and spanId (netron.WithTrace,
// netron.TraceOf), and the records a method logs with its context carry
// trace_id and span_id (the logger module's trace handler).
//
// # Attributes
//
//	rpc.system                 "netron"
//	rpc.service                the qualified service name, or the target as called
//	rpc.method                 the method's wire name
//	netron.transport           tcp, ws, unix, http, nats, ... when known
//	rpc.response.status_code   the netron.Code name, "ok" on success
//
// Spans are named "<service>/<method>". A client span's status is an
// error for every failure but a cancellation; a server span's only for
// the codes of a server's fault (unknown, deadline_exceeded,
// unimplemented, internal, unavailable, data_loss).
package tracing
