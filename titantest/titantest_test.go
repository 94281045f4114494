package titantest_test

import (
	"context"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/titantest"
)

type Greeter struct{}

func (Greeter) Greet(_ context.Context, name string) (string, error) { return "hello, " + name, nil }

func TestServe(t *testing.T) {
	s := titantest.Serve(t, "greeter", "1.0.0", Greeter{})
	p := s.Dial(t)
	got, err := netron.CallUnary[string](context.Background(), p, "greeter@^1", "greet", "Ada")
	if err != nil || got != "hello, Ada" {
		t.Fatalf("greet = %q, %v", got, err)
	}
}
