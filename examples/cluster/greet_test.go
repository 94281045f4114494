package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
)

// TestStopCancelsTheGreetingInFlight: stopping the app cancels the call
// the greeting loop is making, rather than waiting for its timeout
// (cluster.every), and the stop returns once the loop has ended.
func TestStopCancelsTheGreetingInFlight(t *testing.T) {
	t.Parallel()
	calling := make(chan struct{})
	ended := make(chan error, 1)
	client := GreeterClient{Hello: func(ctx context.Context, who string) (string, error) {
		close(calling) // a second call would panic: the test stops during the first
		<-ctx.Done()
		ended <- ctx.Err()
		return "", ctx.Err()
	}}
	app := titan.New(
		titan.WithConfig(config.Options{NoDefaultFile: true, NoEnv: true, Sets: []string{"cluster.name=t", "cluster.every=1s"}}),
		titan.ConfigSection("cluster", Config{}),
		titan.Supply(client),
		titan.Invoke(greet),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-calling:
	case <-ctx.Done():
		_ = app.Stop(context.Background())
		t.Fatal("no greeting within 10s of the start")
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the call in flight ended with %v, want it cancelled by the stop", err)
		}
	default:
		t.Error("the stop returned with the call still in flight")
	}
}
