package metrics

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security/policy"
)

// Label values of what has no name of its own.
const (
	// Other is the service and method of the calls made to methods past
	// the cap of distinct methods (WithMaxMethods).
	Other = "_OTHER"
	// Unknown is the method, and the service, of the calls the server
	// answered not_found: to a method its service lacks (the service is
	// named), or to a service it does not have (Unknown too); and of the
	// calls it answered invalid_argument because their method name is
	// invalid. The names the caller gave are not label values: it may
	// make up any.
	Unknown = "_UNKNOWN"
	// InProcess is the transport of a call that travels over none.
	InProcess = "inproc"
	// OK is the status code of a call that succeeded.
	OK = "ok"
)

// numCodes is the number of status codes a call ends with: ok, then
// netron's codes 1 to 16.
const numCodes = 17

// codeIndex returns the slot of err's status code.
func codeIndex(err error) int {
	if err == nil {
		return 0
	}
	return codeSlot(netron.CodeOf(err))
}

// codeSlot returns the slot of code c (CodeUnknown's when out of range).
func codeSlot(c netron.Code) int {
	if c <= 0 || int(c) >= numCodes {
		return int(netron.CodeUnknown)
	}
	return int(c)
}

// codeName returns the label value of the code in slot i.
func codeName(i int) string {
	if i == 0 {
		return OK
	}
	return netron.Code(i).String()
}

// sideVecs are the vectors of one side of the calls (served or made).
type sideVecs struct {
	started  *prometheus.CounterVec   // service, method, transport
	finished *prometheus.CounterVec   // service, method, transport, code
	duration *prometheus.HistogramVec // service, method, transport, code
	items    *prometheus.CounterVec   // service, method, transport (items of streams)
	refused  *prometheus.CounterVec   // service, method, transport (rate limits)
}

// methodSeries are the series of one method on one side, with those of
// each transport made on first use. The label values are resolved once,
// so that a call only loads pointers and adds to counters.
type methodSeries struct {
	vecs        *sideVecs
	service     string
	method      string
	rateLimited bool // a served method under titan.RateLimit
	streaming   bool // a served stream method: its items are counted

	mu          sync.Mutex
	byTransport atomic.Pointer[[]*callSeries] // copied on write
}

// callSeries are the series of a method over one transport; those of each
// status code are made the first time a call ends with it.
type callSeries struct {
	m         *methodSeries
	transport string
	started   prometheus.Counter
	items     prometheus.Counter                 // a served stream's; nil otherwise
	received  atomic.Pointer[prometheus.Counter] // a stream made: items received, made on first use
	inflight  atomic.Int64                       // read at scrape (inflightCollector)
	ended     [numCodes]atomic.Pointer[endSeries]
}

// endSeries are the series of calls of a method, over a transport, that
// ended with one status code.
type endSeries struct {
	finished prometheus.Counter
	duration prometheus.Observer
	refused  prometheus.Counter // rate-limit refusals; nil unless counted
}

// forTransport returns the series of the method over transport.
func (m *methodSeries) forTransport(transport string) *callSeries {
	if p := m.byTransport.Load(); p != nil {
		for _, s := range *p {
			if s.transport == transport {
				return s
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var cur []*callSeries
	if p := m.byTransport.Load(); p != nil {
		cur = *p
	}
	for _, s := range cur {
		if s.transport == transport {
			return s
		}
	}
	label := transport
	if label == "" {
		label = InProcess
	}
	s := &callSeries{m: m, transport: transport, started: m.vecs.started.WithLabelValues(m.service, m.method, label)}
	if m.streaming && m.vecs.items != nil {
		s.items = m.vecs.items.WithLabelValues(m.service, m.method, label)
	}
	next := append(append(make([]*callSeries, 0, len(cur)+1), cur...), s)
	m.byTransport.Store(&next)
	return s
}

// receivedItems counts n items received by a stream made.
func (s *callSeries) receivedItems(n int64) {
	c := s.received.Load()
	if c == nil {
		label := s.transport
		if label == "" {
			label = InProcess
		}
		made := prometheus.Counter(s.m.vecs.items.WithLabelValues(s.m.service, s.m.method, label))
		s.received.CompareAndSwap(nil, &made)
		c = s.received.Load()
	}
	(*c).Add(float64(n))
}

// begin counts a call starting and returns when it started.
func (s *callSeries) begin() time.Time {
	s.started.Inc()
	s.inflight.Add(1)
	return time.Now()
}

// end counts a call of the series ending with err after it began at start.
func (s *callSeries) end(err error, start time.Time) { s.endSlot(codeIndex(err), start) }

// endSlot is end for a call ending with the code of slot i.
func (s *callSeries) endSlot(i int, start time.Time) {
	d := time.Since(start)
	s.inflight.Add(-1)
	e := s.endSeries(i)
	e.finished.Inc()
	e.duration.Observe(d.Seconds())
	if e.refused != nil {
		e.refused.Inc()
	}
}

// endSeries returns the series of the calls ending with code slot i.
func (s *callSeries) endSeries(i int) *endSeries {
	if e := s.ended[i].Load(); e != nil {
		return e
	}
	m := s.m
	label := s.transport
	if label == "" {
		label = InProcess
	}
	code := codeName(i)
	e := &endSeries{
		finished: m.vecs.finished.WithLabelValues(m.service, m.method, label, code),
		duration: m.vecs.duration.WithLabelValues(m.service, m.method, label, code),
	}
	if m.rateLimited && i == int(netron.CodeResourceExhausted) && m.vecs.refused != nil {
		e.refused = m.vecs.refused.WithLabelValues(m.service, m.method, label)
	}
	// Two calls may race here: both make the same children (the vectors
	// hand out one child per label set), one pointer wins.
	if !s.ended[i].CompareAndSwap(nil, e) {
		return s.ended[i].Load()
	}
	return e
}

// servedMethods are the series of the methods a Netron serves, by method:
// bounded by the services registered, since the engine answers a call to
// an unknown method before any interceptor sees it; those calls are
// counted by service under method Unknown (see notFound).
type servedMethods struct {
	vecs    *sideVecs
	mu      sync.Mutex
	m       atomic.Pointer[map[*netron.MethodSpec]*methodSeries] // copied on write
	unknown map[string]*methodSeries                             // by service name or Unknown; under mu
}

// of returns the series of the served call's method.
func (t *servedMethods) of(call *netron.Call) *methodSeries {
	spec := call.Spec()
	if p := t.m.Load(); p != nil {
		if s := (*p)[spec]; s != nil {
			return s
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var cur map[*netron.MethodSpec]*methodSeries
	if p := t.m.Load(); p != nil {
		cur = *p
		if s := cur[spec]; s != nil {
			return s
		}
	}
	s := &methodSeries{vecs: t.vecs}
	if spec != nil {
		s.service, s.method = spec.ServiceName(), spec.Name()
		s.rateLimited = spec.Policy(policy.RateLimitKey) != nil
		s.streaming = spec.Streaming()
	} else { // not reached: a served call has its method
		s.service, s.method = serviceName(call.Service), call.Method
	}
	next := make(map[*netron.MethodSpec]*methodSeries, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	next[spec] = s
	t.m.Store(&next)
	return s
}

// notFound returns the series of the calls to service (a qualified name;
// "" when it is unknown) answered not_found, or invalid_argument for
// their method name; there is one per service registered, and one for
// the unknown services.
func (t *servedMethods) notFound(service string) *methodSeries {
	name := Unknown
	if service != "" {
		name = serviceName(service)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.unknown[name]; s != nil {
		return s
	}
	if t.unknown == nil {
		t.unknown = map[string]*methodSeries{}
	}
	s := &methodSeries{vecs: t.vecs, service: name, method: Unknown}
	t.unknown[name] = s
	return s
}

// each calls f with every method's series.
func (t *servedMethods) each(f func(*methodSeries)) {
	if p := t.m.Load(); p != nil {
		for _, s := range *p {
			f(s)
		}
	}
	t.mu.Lock()
	unknown := make([]*methodSeries, 0, len(t.unknown))
	for _, s := range t.unknown {
		unknown = append(unknown, s)
	}
	t.mu.Unlock()
	for _, s := range unknown {
		f(s)
	}
}

// madeMethods are the series of the methods a Netron calls, by target and
// method as the caller gave them. The caller may name anything, so the
// table holds at most max pairs of service name and method (the labels:
// targets of one service at different versions share them) and max
// targets; the calls to other pairs, and to names that are not UTF-8,
// share the series of service and method Other.
type madeMethods struct {
	vecs  *sideVecs
	max   int
	mu    sync.Mutex
	pairs map[[2]string]*methodSeries // by service name and method; at most max
	n     int                         // the targets and methods in m; at most max
	other *methodSeries
	m     atomic.Pointer[map[string]map[string]*methodSeries] // target -> method; copied on write
}

// of returns the series of the made call's method.
func (t *madeMethods) of(call *netron.Call) *methodSeries {
	if p := t.m.Load(); p != nil {
		if s := (*p)[call.Service][call.Method]; s != nil {
			return s
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var cur map[string]map[string]*methodSeries
	if p := t.m.Load(); p != nil {
		cur = *p
		if s := cur[call.Service][call.Method]; s != nil {
			return s
		}
	}
	// Names Prometheus refuses as label values, or past the cap.
	if !utf8.ValidString(call.Service) || !utf8.ValidString(call.Method) {
		return t.otherSeries()
	}
	pair := [2]string{serviceName(call.Service), call.Method}
	s := t.pairs[pair]
	if s == nil {
		if len(t.pairs) >= t.max {
			return t.otherSeries()
		}
		if t.pairs == nil {
			t.pairs = map[[2]string]*methodSeries{}
		}
		s = &methodSeries{vecs: t.vecs, service: pair[0], method: pair[1]}
		t.pairs[pair] = s
	}
	if t.n >= t.max { // no room for the target: found under the lock
		return s
	}
	t.n++
	next := make(map[string]map[string]*methodSeries, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	methods := make(map[string]*methodSeries, len(cur[call.Service])+1)
	for k, v := range cur[call.Service] {
		methods[k] = v
	}
	methods[call.Method] = s
	next[call.Service] = methods
	t.m.Store(&next)
	return s
}

// otherSeries returns the series of Other; t.mu is held.
func (t *madeMethods) otherSeries() *methodSeries {
	if t.other == nil {
		t.other = &methodSeries{vecs: t.vecs, service: Other, method: Other}
	}
	return t.other
}

// each calls f with every method's series.
func (t *madeMethods) each(f func(*methodSeries)) {
	t.mu.Lock()
	all := make([]*methodSeries, 0, len(t.pairs)+1)
	for _, s := range t.pairs {
		all = append(all, s)
	}
	if t.other != nil {
		all = append(all, t.other)
	}
	t.mu.Unlock()
	for _, s := range all {
		f(s)
	}
}

// serviceName is the service's name in a target or qualified name, without
// its version or range ("calculator@^1" -> "calculator").
func serviceName(target string) string {
	name, _, _ := strings.Cut(target, "@")
	return name
}
