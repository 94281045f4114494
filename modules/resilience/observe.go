package resilience

import "go.uber.org/fx"

// StateObserver is told of each state change of the circuit breakers that
// titan.Remote builds, for metrics: a metrics module keeps a gauge per
// breaker from it. It must not block; calls for different breakers may
// overlap, those for one breaker come one at a time, in order.
type StateObserver func(StateChange)

// ObserverGroup is the fx value group of the app's [StateObserver]s.
const ObserverGroup = "titan.resilience.observers"

// AsStateObserver annotates a constructor returning a [StateObserver]
// into [ObserverGroup]: fx.Provide(resilience.AsStateObserver(newGauge)).
func AsStateObserver(f any) any {
	return fx.Annotate(f, fx.ResultTags(`group:"`+ObserverGroup+`"`))
}
