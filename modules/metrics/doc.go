// Package metrics is the operations module of a Titan app: Prometheus
// series of its calls, peers, cache and breakers, and its health
// (package health), served over HTTP.
//
// # Endpoints
//
// With metrics.listen set (or titan.Admin), an admin HTTP server serves
// /metrics (the Prometheus text format), /healthz (liveness) and /readyz
// (readiness); without it none starts. Every http:// and https://
// listener of the app also serves them as /_titan/metrics,
// /_titan/healthz and /_titan/readyz (metrics.mount, on by default).
// See package health for what the health endpoints answer.
//
// # Series
//
// Names and labels follow the OpenTelemetry RPC semantic conventions
// where they have one: the duration histograms are rpc.server.call.duration
// and rpc.client.call.duration in seconds; the labels rpc_system
// ("netron"), rpc_service (the service's name, without its version),
// rpc_method and rpc_response_status_code ("ok" or the netron code's name:
// "invalid_argument", "resource_exhausted", ...) are rpc.system,
// rpc.service, rpc.method and rpc.response.status_code. transport is the
// URL scheme the call travelled over (tcp, unix, ws, http, nats, ...;
// "inproc" for none).
//
//	rpc_server_calls_started_total      service, method, transport
//	rpc_server_calls_finished_total     service, method, transport, code
//	rpc_server_call_duration_seconds    service, method, transport, code (histogram)
//	rpc_server_calls_in_flight          service, method, transport
//	rpc_server_stream_items_sent_total  service, method, transport
//	rpc_client_calls_started_total      service, method, transport
//	rpc_client_calls_finished_total     service, method, transport, code
//	rpc_client_call_duration_seconds    service, method, transport, code (histogram)
//	rpc_client_calls_in_flight          service, method, transport
//	rpc_client_stream_items_received_total  service, method, transport (at each stream's end)
//	titan_rate_limit_refusals_total     service, method, transport
//	titan_peers_connected               transport
//	titan_transport_messages_total      transport, direction (received, sent)
//	titan_transport_bytes_total         transport, direction (on the wire: compressed when compressed)
//	titan_events_dropped_total          transport (events not sent to a peer whose send queue was full)
//	titan_cache_hits_total, titan_cache_misses_total, titan_cache_entries, titan_cache_bytes
//	titan_breaker_state                 breaker (0 closed, 1 half-open, 2 open)
//	go_*, process_*                     the Go runtime and the process
//
// A stream is one call, from its start to its end. The calls a security
// guard refuses are counted with their code (unauthenticated,
// permission_denied, resource_exhausted): the interceptor sits outside
// the guard. titan_rate_limit_refusals_total counts the calls of methods
// under titan.RateLimit that ended resource_exhausted, which is what the
// limit answers (a method of such a service that returns
// resource_exhausted itself is counted too).
//
// Cardinality is bounded: the methods served are the registered ones; a
// call that the engine answers not_found, before any interceptor sees it
// (over a connection or through the HTTP and NATS gateways), is counted
// under method "_UNKNOWN" of its service, or service "_UNKNOWN" when the
// service is unknown ([Unknown]: never the names the caller gave), and
// so is a call it answers invalid_argument because its method name is
// invalid;
// the methods called are counted apart
// up to metrics.maxMethods distinct pairs of service and method, and
// together under service and method "_OTHER" beyond (so are the calls to
// names that are not UTF-8, which Prometheus refuses as label values).
//
// Circuit breakers report through the [Breakers] hook (fx group
// [BreakerGroup]). An app adds series of its own through the
// prometheus.Registerer the module provides.
//
// # Cost
//
// The interceptor resolves the series of each method, transport and
// status code once; a call then costs two clock reads and a few atomic
// additions, and no allocation.
//
// Not yet counted: the bytes of stream items either way; the engine
// exposes them to no interceptor.
package metrics
