package discovery

import (
	"context"
	"errors"
	"log/slog"
	"testing"
)

// listing is a Registry that lists one service.
type listing struct{ Registry }

func (listing) Services(context.Context) ([]string, error) { return []string{"users"}, nil }
func (listing) Close() error                               { return nil }

// An app whose registry did not answer at start (discovery.required:
// false) lists its services through it once it answers, as every backend
// in the tree does: the registry that stands in until then does not hide
// that the backend is a Lister.
func TestLazyRegistryLists(t *testing.T) {
	opened := false
	a := newAppRegistry(Config{Backend: "fake", Heartbeat: 1}, slog.New(slog.DiscardHandler))
	a.r = &lazy{open: func(context.Context) (Registry, error) {
		opened = true
		return listing{}, nil
	}, retry: 1, log: slog.New(slog.DiscardHandler), desc: "fake", err: errors.New("refused")}
	names, err := a.Services(context.Background())
	if err != nil || len(names) != 1 || names[0] != "users" {
		t.Fatalf("Services = %v, %v (backend opened: %v)", names, err, opened)
	}
}
