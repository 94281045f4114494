package discovery_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/netron"
)

// unreachable is a registry that does not answer, failing as the etcd
// and NATS clients do: with an error that names neither.
type unreachable struct{ discovery.Registry }

func (unreachable) Discover(context.Context, discovery.Query) ([]discovery.Instance, error) {
	return nil, context.DeadlineExceeded
}

func (unreachable) Watch(context.Context, discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(yield func([]discovery.Instance, error) bool) { yield(nil, errors.New("nats: timeout")) }
}

// The errors of a registry that does not answer name the registry: a
// client's "context deadline exceeded" alone does not say where to look.
func TestResolverErrorsNameTheRegistry(t *testing.T) {
	r := &discovery.Resolver{Registry: unreachable{}, Backend: "etcd"}
	target, err := netron.ParseTarget("calc@^1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(context.Background(), target); err == nil || !strings.Contains(err.Error(), "etcd registry") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Resolve: %v; want it to name the etcd registry", err)
	}
	for _, err := range r.Watch(context.Background(), target) {
		if err == nil || !strings.Contains(err.Error(), "etcd registry") || !strings.Contains(err.Error(), "calc@^1") {
			t.Errorf("Watch: %v; want it to name calc@^1 and the etcd registry", err)
		}
		break
	}
}
