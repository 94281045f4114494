package composite_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

func init() {
	discovery.RegisterBackend("downtest", func(context.Context, discovery.Config, *slog.Logger) (discovery.Registry, error) {
		return down{}, nil
	})
}

// The errors of a composite name the registry of discovery.backends that
// failed (without its password): "down" alone does not say which of the
// registries to look at.
func TestErrorsNameTheRegistry(t *testing.T) {
	ctx := context.Background()
	c := discovery.DefaultConfig()
	c.Backend, c.Backends = "composite", []string{"memory://", "downtest://user:secret@10.0.0.9:1"}
	r, err := discovery.Open(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	check := func(op string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "downtest://user:xxxxx@10.0.0.9:1") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: %v; want it to name downtest://user:xxxxx@10.0.0.9:1", op, err)
		}
	}
	check("Register", r.Register(ctx, testsrv.Instance("x", "1.0.0")))
	check("Deregister", r.Deregister(ctx, "x"))
	for _, err := range r.Watch(ctx, discovery.Query{Service: "users"}) {
		if err != nil {
			check("Watch", err)
			break
		}
	}
}
