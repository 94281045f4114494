package metrics

import (
	"fmt"
	"iter"
	"maps"
	"reflect"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/resilience"
)

// BreakerState is the state of a circuit breaker, as the value of the
// titan_breaker_state gauge.
type BreakerState int

// The states of a circuit breaker.
const (
	// BreakerClosed: calls pass (0).
	BreakerClosed BreakerState = iota
	// BreakerHalfOpen: a few trial calls pass (1).
	BreakerHalfOpen
	// BreakerOpen: calls are refused without being made (2).
	BreakerOpen
)

// String returns "closed", "half_open" or "open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half_open"
	case BreakerOpen:
		return "open"
	}
	return "unknown"
}

// Breakers is the hook through which a circuit-breaker module reports its
// breakers: it provides one into [BreakerGroup] ([AsBreakers]), and every
// scrape of /metrics gives each breaker's state as
// titan_breaker_state{breaker="<name>"} (0 closed, 1 half-open, 2 open).
type Breakers interface {
	// BreakerStates yields each breaker's name (such as the remote target
	// it guards, "users@^1") and state now. It is called at every scrape,
	// from the scraping goroutine, and must not block. Names are unique;
	// their bytes that are not UTF-8 are reported as U+FFFD. A nil
	// iterator yields none.
	BreakerStates() iter.Seq2[string, BreakerState]
}

// BreakerGroup is the fx value group of the [Breakers] the metrics module
// reports.
const BreakerGroup = "titan.metrics.breakers"

// AsBreakers annotates a constructor returning a [Breakers] into
// [BreakerGroup]. The constructor must return a Breakers, not a nil one
// (nor a nil pointer): the app fails to start with an error that says so.
// A module that has no breakers returns one whose iterator yields none.
func AsBreakers(f any) any {
	return fx.Annotate(f, fx.As(new(Breakers)), fx.ResultTags(`group:"`+BreakerGroup+`"`))
}

// checkBreakers refuses a nil Breakers in the group, or one that is a nil
// pointer: every scrape would call it, and panic.
func checkBreakers(bs []Breakers) error {
	for _, b := range bs {
		if b == nil {
			return fmt.Errorf("metrics: a constructor in the group %s (metrics.AsBreakers) returned a nil Breakers; "+
				"to report no breakers, return one whose BreakerStates yields none", BreakerGroup)
		}
		if v := reflect.ValueOf(b); v.Kind() == reflect.Pointer && v.IsNil() {
			return fmt.Errorf("metrics: a constructor in the group %s (metrics.AsBreakers) returned a nil Breakers (a nil %T); "+
				"to report no breakers, return one whose BreakerStates yields none", BreakerGroup, b)
		}
	}
	return nil
}

// breakerCollector gives titan_breaker_state from the Breakers.
type breakerCollector struct {
	desc *prometheus.Desc
	bs   []Breakers
}

func newBreakerCollector(bs []Breakers) *breakerCollector {
	return &breakerCollector{bs: bs, desc: prometheus.NewDesc("titan_breaker_state",
		"State of each circuit breaker: 0 closed, 1 half-open, 2 open.", []string{"breaker"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, b := range c.bs {
		states := b.BreakerStates()
		if states == nil { // no breakers
			continue
		}
		for name, st := range states {
			// A label value must be UTF-8: the collector would panic, and
			// the scrape lose every breaker's state.
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(st), strings.ToValidUTF8(name, "\uFFFD"))
		}
	}
}

// resilienceBreakers keeps the state of the breakers of modules/resilience
// (titan.CircuitBreaker), as its StateObserver tells them, for
// titan_breaker_state. A breaker appears at its first change of state.
type resilienceBreakers struct {
	mu     sync.Mutex
	states map[string]BreakerState
}

func newResilienceBreakers() *resilienceBreakers {
	return &resilienceBreakers{states: map[string]BreakerState{}}
}

func (b *resilienceBreakers) observe(c resilience.StateChange) {
	s := BreakerClosed
	switch c.To {
	case resilience.Open:
		s = BreakerOpen
	case resilience.HalfOpen:
		s = BreakerHalfOpen
	}
	b.mu.Lock()
	b.states[c.Breaker] = s
	b.mu.Unlock()
}

// BreakerStates implements [Breakers].
func (b *resilienceBreakers) BreakerStates() iter.Seq2[string, BreakerState] {
	b.mu.Lock()
	snap := maps.Clone(b.states)
	b.mu.Unlock()
	return func(yield func(string, BreakerState) bool) {
		for name, s := range snap {
			if !yield(name, s) {
				return
			}
		}
	}
}
