package metrics

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan/modules/netron"
)

// Label names. rpc_service, rpc_method and rpc_response_status_code are
// the OpenTelemetry RPC attributes rpc.service, rpc.method and
// rpc.response.status_code as Prometheus names them; transport (the URL
// scheme a call travelled over: tcp, ws, http, nats, ...) has no
// OpenTelemetry counterpart, since network.transport would say tcp for
// ws:// and http:// alike.
const (
	LabelService   = "rpc_service"
	LabelMethod    = "rpc_method"
	LabelTransport = "transport"
	LabelCode      = "rpc_response_status_code"
)

// DefaultBuckets are the bounds of the call duration histograms, in
// seconds: from 100µs (a call on one machine) to 10s.
var DefaultBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// DefaultMaxMethods is how many distinct methods the calls made are
// counted apart by default (WithMaxMethods).
const DefaultMaxMethods = 1000

// Interceptor counts and times the calls a Netron serves and makes, as the
// rpc_server_* and rpc_client_* series (see the package doc). It is a
// [netron.CallBorrower] and a [netron.Positioned] at -200, outside the
// security guard (-100), so that it counts what the guard refuses. A call
// costs it no allocation: the series of each method, transport and status
// code are resolved once and kept. It is safe for concurrent use.
type Interceptor struct {
	served *servedMethods
	made   *madeMethods
}

var (
	_ netron.CallBorrower        = (*Interceptor)(nil)
	_ netron.Positioned          = (*Interceptor)(nil)
	_ netron.RefusedCallObserver = (*Interceptor)(nil)
)

// Option configures an [Interceptor].
type Option interface {
	apply(*interceptorConfig)
	String() string
}

type interceptorConfig struct {
	buckets    []float64
	maxMethods int
}

type option struct {
	desc string
	fn   func(*interceptorConfig)
}

func (o option) apply(c *interceptorConfig) { o.fn(c) }
func (o option) String() string             { return o.desc }

// WithBuckets sets the bounds of the duration histograms, in seconds,
// ascending; none means [DefaultBuckets], the default.
func WithBuckets(bounds ...float64) Option {
	desc := fmt.Sprintf("WithBuckets(%v)", bounds)
	if len(bounds) == 0 {
		bounds = DefaultBuckets
	}
	return option{desc, func(c *interceptorConfig) { c.buckets = bounds }}
}

// WithMaxMethods bounds how many distinct (service, method) pairs the
// calls made are counted apart (default [DefaultMaxMethods]); the calls
// to others share the service and method [Other]. The methods served need
// no bound: only registered methods reach an interceptor.
func WithMaxMethods(n int) Option {
	return option{fmt.Sprintf("WithMaxMethods(%d)", n), func(c *interceptorConfig) { c.maxMethods = n }}
}

// NewInterceptor returns an Interceptor whose series are registered with
// reg. It fails when reg holds series of the same names, or when an option
// is invalid (the error names it).
func NewInterceptor(reg prometheus.Registerer, opts ...Option) (*Interceptor, error) {
	cfg := interceptorConfig{buckets: DefaultBuckets, maxMethods: DefaultMaxMethods}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.maxMethods < 1 {
		return nil, fmt.Errorf("metrics: WithMaxMethods(%d): want at least 1", cfg.maxMethods)
	}
	for i, b := range cfg.buckets {
		if i > 0 && b <= cfg.buckets[i-1] {
			return nil, fmt.Errorf("metrics: WithBuckets(%v): want ascending bounds", cfg.buckets)
		}
	}
	server := newSideVecs("server", cfg.buckets)
	client := newSideVecs("client", cfg.buckets)
	ic := &Interceptor{
		served: &servedMethods{vecs: server},
		made:   &madeMethods{vecs: client, max: cfg.maxMethods},
	}
	cs := []prometheus.Collector{server.started, server.finished, server.duration, server.items, server.refused,
		client.started, client.finished, client.duration, client.items,
		&inflightCollector{desc: inflightDesc("server"), each: ic.served.each},
		&inflightCollector{desc: inflightDesc("client"), each: ic.made.each}}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return ic, nil
}

// constLabels are on every rpc_* series: the RPC system (OpenTelemetry's
// rpc.system).
var constLabels = prometheus.Labels{"rpc_system": "netron"}

// unknownHelp says, in the help of the server's call counts, how the calls
// to unknown names are counted.
var unknownHelp = map[string]string{
	"server": "; calls to a method or service the server does not have (answered not_found), and calls whose method name is invalid " +
		"(answered invalid_argument), are counted under rpc_method \"" +
		Unknown + "\" of their service, or rpc_service \"" + Unknown + "\" for an unknown service, never under the names the caller gave",
}

func newSideVecs(side string, buckets []float64) *sideVecs {
	calls := []string{LabelService, LabelMethod, LabelTransport}
	ended := []string{LabelService, LabelMethod, LabelTransport, LabelCode}
	who := map[string]string{"server": "served", "client": "made"}[side]
	v := &sideVecs{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rpc_" + side + "_calls_started_total", ConstLabels: constLabels,
			Help: "Calls " + who + " that started (unary calls and streams)" + unknownHelp[side] + ".",
		}, calls),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rpc_" + side + "_calls_finished_total", ConstLabels: constLabels,
			Help: "Calls " + who + " that finished, by status code" + unknownHelp[side] + ".",
		}, ended),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "rpc_" + side + "_call_duration_seconds", ConstLabels: constLabels, Buckets: buckets,
			Help: "Duration of the calls " + who + ", to the end of the stream for streams (OpenTelemetry rpc." + side + ".call.duration).",
		}, ended),
	}
	if side == "client" {
		v.items = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rpc_client_stream_items_received_total", ConstLabels: constLabels,
			Help: "Items the streams made have received, counted when each stream ends.",
		}, calls)
	}
	if side == "server" {
		v.items = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rpc_server_stream_items_sent_total", ConstLabels: constLabels,
			Help: "Items the streams served have sent.",
		}, calls)
		v.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "titan_rate_limit_refusals_total",
			Help: "Calls of methods under a rate limit (titan.RateLimit) that ended resource_exhausted: refused by the limit.",
		}, calls)
	}
	return v
}

// Position implements [netron.Positioned]: -200, inside tracing (-300),
// outside security (-100).
func (ic *Interceptor) Position() int { return -200 }

// BorrowsCalls implements [netron.CallBorrower]: the Interceptor keeps
// label values, never a Call.
func (ic *Interceptor) BorrowsCalls() {}

// series returns the series of the call's method and transport.
func (ic *Interceptor) series(call *netron.Call) *callSeries {
	var m *methodSeries
	if call.IsClient() {
		m = ic.made.of(call)
	} else {
		m = ic.served.of(call)
	}
	return m.forTransport(call.Transport())
}

// CallRefused implements [netron.RefusedCallObserver]: a call the server
// answered before any interceptor ran (not_found, or invalid_argument for
// its method name) is counted, started and finished with that code, under
// method [Unknown] of its service, or of service [Unknown] when the
// service is unknown.
func (ic *Interceptor) CallRefused(service, transport string, code netron.Code) {
	s := ic.served.notFound(service).forTransport(transport)
	s.endSlot(codeSlot(code), s.begin())
}

// WrapUnary implements [netron.Interceptor]: a call that panics inside
// it (in an interceptor nearer the method; the engine answers internal)
// ends internal.
func (ic *Interceptor) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		s := ic.series(call)
		start := s.begin()
		returned := false
		defer func() {
			if !returned {
				s.end(errPanicked, start)
			}
		}()
		res, err := next(ctx, call)
		returned = true
		s.end(err, start)
		return res, err
	}
}

// WrapStreamingHandler implements [netron.Interceptor]: a stream served
// ends when its iterator returns, or when its context ends if nobody
// iterates it; its items are counted as they go.
func (ic *Interceptor) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		s := ic.series(call)
		start := s.begin()
		opened := false
		defer func() {
			if !opened { // it panicked inside: the engine answers internal
				s.end(errPanicked, start)
			}
		}()
		seq, err := next(ctx, call)
		opened = true
		if err != nil {
			s.end(err, start)
			return nil, err
		}
		var ended atomic.Bool
		end := func(err error) {
			if ended.CompareAndSwap(false, true) {
				s.end(err, start)
			}
		}
		stop := context.AfterFunc(ctx, func() { end(context.Cause(ctx)) })
		return func(yield func(any, error) bool) {
			var err error
			returned := false
			defer func() {
				stop()
				switch {
				case !returned && err == nil:
					err = errPanicked // the iterator panicked: the engine answers internal
				case err == nil && ctx.Err() != nil:
					// It returned because its context ended (the usual
					// way to honour it): stopped, as the AfterFunc above
					// would record if it ran first.
					err = context.Cause(ctx)
				}
				end(err)
			}()
			for v, ierr := range seq {
				if ierr != nil {
					err = ierr
				}
				if !yield(v, ierr) {
					// The engine did not send this item: not counted.
					if err == nil {
						err = errStopped
						if ctx.Err() != nil { // the engine says why
							err = context.Cause(ctx)
						}
					}
					break
				}
				if ierr == nil && s.items != nil {
					s.items.Inc()
				}
			}
			returned = true
		}, nil
	}
}

var (
	errPanicked = netron.NewError(netron.CodeInternal, errors.New("stream panicked"))
	errStopped  = netron.NewError(netron.CodeCanceled, errors.New("stream stopped by its reader"))
)

// WrapStreamingClient implements [netron.Interceptor]: a stream made ends
// when its reader reads its end, fails, or closes it
// ([netron.Stream.OnEnd]); the items it received are counted then.
func (ic *Interceptor) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		s := ic.series(call)
		start := s.begin()
		opened := false
		defer func() {
			if !opened { // it panicked inside
				s.end(errPanicked, start)
			}
		}()
		st, err := next(ctx, call)
		opened = true
		if err != nil {
			s.end(err, start)
			return nil, err
		}
		st.OnEnd(func(err error) {
			if n := st.Items(); n > 0 {
				s.receivedItems(n)
			}
			s.end(err, start)
		})
		return st, nil
	}
}

// inflightCollector gives rpc_*_calls_in_flight from the series' counts,
// summed per label set (two versions of a service, or two targets naming
// one, share their labels).
type inflightCollector struct {
	desc *prometheus.Desc
	each func(func(*methodSeries))
}

func inflightDesc(side string) *prometheus.Desc {
	who := map[string]string{"server": "served", "client": "made"}[side]
	return prometheus.NewDesc("rpc_"+side+"_calls_in_flight", "Calls "+who+" that have started and not finished.",
		[]string{LabelService, LabelMethod, LabelTransport}, constLabels)
}

// Describe implements prometheus.Collector.
func (c *inflightCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *inflightCollector) Collect(ch chan<- prometheus.Metric) {
	sums := map[[3]string]int64{}
	c.each(func(m *methodSeries) {
		if p := m.byTransport.Load(); p != nil {
			for _, s := range *p {
				t := s.transport
				if t == "" {
					t = InProcess
				}
				sums[[3]string{m.service, m.method, t}] += s.inflight.Load()
			}
		}
	})
	for k, v := range sums {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(v), k[0], k[1], k[2])
	}
}
