package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
)

// peersCollector gives titan_peers_connected: the peers of a Netron with a
// live connection now, accepted and dialled, by transport.
type peersCollector struct {
	n    *netron.Netron
	desc *prometheus.Desc
}

func newPeersCollector(n *netron.Netron) *peersCollector {
	return &peersCollector{n: n, desc: prometheus.NewDesc("titan_peers_connected",
		"Peers connected now (accepted and dialled), by transport.", []string{LabelTransport}, nil)}
}

// Describe implements prometheus.Collector.
func (c *peersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *peersCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]int{}
	for _, p := range c.n.Peers() {
		if p.Connected() {
			t := p.Transport()
			if t == "" {
				t = InProcess
			}
			counts[t]++
		}
	}
	for t, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), t)
	}
}

// trafficCollector gives the messages and bytes that crossed the Netron's
// connections, by transport and direction (netron.Netron.Traffic).
type trafficCollector struct {
	n                        *netron.Netron
	messages, bytes, dropped *prometheus.Desc
}

func newTrafficCollector(n *netron.Netron) *trafficCollector {
	labels := []string{LabelTransport, "direction"}
	return &trafficCollector{n: n,
		messages: prometheus.NewDesc("titan_transport_messages_total",
			"Netron messages that crossed the app's connections (accepted and dialled; not the HTTP and NATS gateways), by transport and direction (received, sent).", labels, nil),
		bytes: prometheus.NewDesc("titan_transport_bytes_total",
			"Bytes of those messages as they crossed the connections (compressed ones at their compressed size; without the transport's framing), by transport and direction.", labels, nil),
		dropped: prometheus.NewDesc("titan_events_dropped_total",
			"Events not sent to a subscribed peer because its send queue was full (it read slower than they were emitted), by transport.", []string{LabelTransport}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *trafficCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.bytes
	ch <- c.dropped
}

// Collect implements prometheus.Collector.
func (c *trafficCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.n.Traffic() {
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.CounterValue, float64(t.MessagesIn), t.Transport, "received")
		ch <- prometheus.MustNewConstMetric(c.messages, prometheus.CounterValue, float64(t.MessagesOut), t.Transport, "sent")
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(t.BytesIn), t.Transport, "received")
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(t.BytesOut), t.Transport, "sent")
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(t.EventsDropped), t.Transport)
	}
}

// cacheCollectors give the response cache's titan_cache_hits_total,
// titan_cache_misses_total, titan_cache_entries and titan_cache_bytes.
func cacheCollectors(c *cache.Cache) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "titan_cache_hits_total", Help: "Calls of cacheable methods answered from the response cache.",
		}, func() float64 { return float64(c.Stats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "titan_cache_misses_total", Help: "Calls of cacheable methods that ran the method (not in the response cache).",
		}, func() float64 { return float64(c.Stats().Misses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "titan_cache_entries", Help: "Results the response cache holds (an estimate).",
		}, func() float64 { return float64(c.Stats().Entries) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "titan_cache_bytes", Help: "Bytes the response cache counts its results at, against its budget (netron.cacheBytes).",
		}, func() float64 { return float64(c.Stats().Bytes) }),
	}
}
