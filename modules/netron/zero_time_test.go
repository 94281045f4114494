package netron_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

type stampedEvent struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

type eventSvc struct{}

func (eventSvc) Event(_ context.Context, name string) (stampedEvent, error) {
	return stampedEvent{Name: name}, nil
}

// TestZeroTimeInResult: a result whose time.Time field is unset (written
// as null) keeps to its derived contract.
func TestZeroTimeInResult(t *testing.T) {
	t.Parallel()
	_, p := serveOnTCP(t, map[string]any{"ev": eventSvc{}})
	got, err := netron.CallUnary[stampedEvent](context.Background(), p, "ev@1.0.0", "event", "launch")
	if err != nil || got.Name != "launch" || !got.At.IsZero() {
		t.Fatalf("a result with a zero time.Time field: %+v, %v", got, err)
	}
}
