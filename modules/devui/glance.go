package devui

import (
	"cmp"
	"slices"

	dto "github.com/prometheus/client_model/go"

	"github.com/titanframework/titan/modules/metrics"
)

// Glance summarises an app's metrics for the page.
type Glance struct {
	// Available is false when the app collects no metrics; Reason says
	// why.
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
	// Figures are the process's: goroutines, memory, peers, cache, ...
	Figures []Figure `json:"figures"`
	// Calls are the calls served, by service and method.
	Calls []CallFigures `json:"calls"`
}

// Figure is one number of a [Glance].
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	// Unit is "bytes", "seconds" or "" for a count.
	Unit string `json:"unit,omitempty"`
}

// CallFigures are the figures of the calls served of one method, over
// every transport.
type CallFigures struct {
	Service  string  `json:"service"`
	Method   string  `json:"method"`
	Started  float64 `json:"started"`
	OK       float64 `json:"ok"`
	Failed   float64 `json:"failed"`
	InFlight float64 `json:"inFlight"`
	// MeanSeconds is the mean duration of the finished calls.
	MeanSeconds float64 `json:"meanSeconds"`
	// Codes counts the failed calls by code.
	Codes map[string]float64 `json:"codes,omitempty"`
}

// figures are the series a glance shows as figures, in order.
var figures = []struct{ series, name, unit string }{
	{"go_goroutines", "goroutines", ""},
	{"process_resident_memory_bytes", "resident memory", "bytes"},
	{"go_memstats_heap_inuse_bytes", "heap in use", "bytes"},
	{"process_cpu_seconds_total", "CPU time", "seconds"},
	{"titan_peers_connected", "peers connected", ""},
	{"titan_cache_hits_total", "cache hits", ""},
	{"titan_cache_misses_total", "cache misses", ""},
	{"titan_rate_limit_refusals_total", "rate-limit refusals", ""},
}

// glance reads the series of modules/metrics in fams.
func glance(fams []*dto.MetricFamily) Glance {
	g := Glance{Available: len(fams) > 0, Figures: []Figure{}, Calls: []CallFigures{}}
	if !g.Available {
		g.Reason = "the app collects no metrics (metrics.enabled is false)"
		return g
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	for _, f := range figures {
		if fam := byName[f.series]; fam != nil {
			total := 0.0
			for _, m := range fam.GetMetric() {
				total += value(m)
			}
			g.Figures = append(g.Figures, Figure{Name: f.name, Value: total, Unit: f.unit})
		}
	}

	type key struct{ service, method string }
	calls := map[key]*CallFigures{}
	each := func(series string, fn func(c *CallFigures, m *dto.Metric)) {
		fam := byName[series]
		if fam == nil {
			return
		}
		for _, m := range fam.GetMetric() {
			k := key{label(m, metrics.LabelService), label(m, metrics.LabelMethod)}
			c := calls[k]
			if c == nil {
				c = &CallFigures{Service: k.service, Method: k.method}
				calls[k] = c
			}
			fn(c, m)
		}
	}
	each("rpc_server_calls_started_total", func(c *CallFigures, m *dto.Metric) { c.Started += value(m) })
	each("rpc_server_calls_in_flight", func(c *CallFigures, m *dto.Metric) { c.InFlight += value(m) })
	each("rpc_server_calls_finished_total", func(c *CallFigures, m *dto.Metric) {
		code := label(m, metrics.LabelCode)
		if code == metrics.OK {
			c.OK += value(m)
			return
		}
		c.Failed += value(m)
		if c.Codes == nil {
			c.Codes = map[string]float64{}
		}
		c.Codes[code] += value(m)
	})
	sums := map[*CallFigures]*[2]float64{} // duration sum, count
	each("rpc_server_call_duration_seconds", func(c *CallFigures, m *dto.Metric) {
		s := sums[c]
		if s == nil {
			s = new([2]float64)
			sums[c] = s
		}
		s[0] += m.GetHistogram().GetSampleSum()
		s[1] += float64(m.GetHistogram().GetSampleCount())
	})
	for _, c := range calls {
		if s := sums[c]; s != nil && s[1] > 0 {
			c.MeanSeconds = s[0] / s[1]
		}
		if c.Started > 0 || c.OK+c.Failed > 0 {
			g.Calls = append(g.Calls, *c)
		}
	}
	slices.SortFunc(g.Calls, func(a, b CallFigures) int {
		return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Method, b.Method))
	})
	return g
}

// value is a counter's, gauge's or untyped series' value.
func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// label returns the value of the label name of m, or "".
func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
