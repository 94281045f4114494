package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/titanframework/titan/modules/metrics"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
)

// The -metrics and -observed rows put the operations modules' interceptors
// on both sides, as an app has them: metrics (Prometheus series of every
// call, on a registry of the row's own) and, for -observed, tracing too
// with an SDK TracerProvider sampling nothing, built as the module builds
// it for tracing.ratio 0 (tracing.WithRootRatio(0): a call that comes
// without a trace starts no span; a caller's decision is followed),
// outermost as in an app (tracing -300, metrics -200).
type observation int

const (
	observeNone observation = iota
	observeMetrics
	observeTraced // metrics and tracing at ratio 0
)

// observedSides returns the interceptor options of both sides and a
// function that shuts the tracer providers down.
func observedSides(o observation) (server, client []netron.Option, stop func(), err error) {
	stop = func() {}
	if o == observeNone {
		return nil, nil, stop, nil
	}
	side := func() ([]netron.Interceptor, *sdktrace.TracerProvider, error) {
		m, err := metrics.NewInterceptor(prometheus.NewRegistry())
		if err != nil {
			return nil, nil, err
		}
		if o != observeTraced {
			return []netron.Interceptor{m}, nil, nil
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tracing.Sampler(0)))
		// As the tracing module builds it for tracing.ratio 0.
		return []netron.Interceptor{tracing.NewInterceptor(tp, tracing.WithRootRatio(0)), m}, tp, nil
	}
	sics, stp, err := side()
	if err != nil {
		return nil, nil, stop, err
	}
	cics, ctp, err := side()
	if err != nil {
		return nil, nil, stop, err
	}
	stop = func() {
		for _, tp := range []*sdktrace.TracerProvider{stp, ctp} {
			if tp != nil {
				_ = tp.Shutdown(context.Background())
			}
		}
	}
	return []netron.Option{netron.WithInterceptors(sics...)}, []netron.Option{netron.WithInterceptors(cics...)}, stop, nil
}
