package resilience_test

import (
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/resilience"
)

// A breaker's state changes are told in the order they happened, also
// when the call that opened it is still telling of it while other calls
// half-open and close it: the last change told is the breaker's state.
func TestCircuitBreakerTellsChangesInOrder(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	var ch changes
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Name: "flaky", Failures: 1, Delay: 10 * time.Millisecond,
		OnStateChange: func(sc resilience.StateChange) {
			if sc.To == resilience.Open {
				// The goroutine telling of the opening is held up, as
				// a preempted one would be.
				once.Do(func() {
					close(entered)
					select {
					case <-release:
					case <-time.After(5 * time.Second):
					}
				})
			}
			ch.record(sc)
		}})
	p := dial(t, addr, b)

	f.failing.Store(true)
	opened := make(chan error, 1)
	go func() { _, err := get(p, "get", "k"); opened <- err }()
	<-entered
	f.failing.Store(false)
	eventually(t, "the breaker half-opens and closes", func() bool {
		_, err := get(p, "get", "k")
		return err == nil && b.State() == resilience.Closed
	})
	close(release)
	if err := <-opened; err == nil {
		t.Fatal("the failing call succeeded")
	}
	want := "flaky closed>open, flaky open>half-open, flaky half-open>closed"
	eventually(t, "three changes told", func() bool { return len(ch.String()) >= len(want) })
	if got := ch.String(); got != want {
		t.Fatalf("changes told %q, want %q (the breaker is %v)", got, want, b.State())
	}
}
