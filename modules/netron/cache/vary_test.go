package cache_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
)

// Greeter answers with the tenant and the locale its caller sends as
// metadata, and counts its runs.
type Greeter struct{ runs *atomic.Int64 }

func (g Greeter) Greet(ctx context.Context, name string) (string, error) {
	g.runs.Add(1)
	return netron.IncomingMetadata(ctx)["tenant"] + ": hello " + name, nil
}

func (g Greeter) Localized(ctx context.Context, name string) (string, error) {
	g.runs.Add(1)
	return netron.IncomingMetadata(ctx)["locale"] + ": hello " + name, nil
}

// TestVaryBy: the metadata keys VaryBy names are part of the key, others
// (a trace id) are not, and a method's own VaryBy replaces its service's.
func TestVaryBy(t *testing.T) {
	var runs atomic.Int64
	c := cache.New(100)
	defer c.Close()
	n := newNetron(t, c, &runs)
	if err := n.Register("greeter", "1.0.0", Greeter{&runs}, netron.WithCache(time.Minute), cache.VaryBy("tenant"),
		netron.WithMethod("localized", cache.VaryBy("locale"))); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name, method string
		md           map[string]string
		want         string
		ran          bool
	}{
		{"first tenant", "greet", map[string]string{"tenant": "acme", "trace": "1"}, "acme: hello ada", true},
		{"another tenant", "greet", map[string]string{"tenant": "globex", "trace": "2"}, "globex: hello ada", true},
		{"first tenant, another trace", "greet", map[string]string{"tenant": "acme", "trace": "3"}, "acme: hello ada", false},
		{"no tenant", "greet", nil, ": hello ada", true},
		{"an empty tenant", "greet", map[string]string{"tenant": ""}, ": hello ada", true},
		{"no tenant again", "greet", map[string]string{"trace": "4"}, ": hello ada", false},
		{"method's own key", "localized", map[string]string{"locale": "en", "tenant": "acme"}, "en: hello ada", true},
		{"method's own key, another tenant", "localized", map[string]string{"locale": "en", "tenant": "globex"}, "en: hello ada", false},
		{"method's own key, another locale", "localized", map[string]string{"locale": "fr", "tenant": "acme"}, "fr: hello ada", true},
	} {
		inv := invocation(t, "greeter@1.0.0", step.method, "ada")
		inv.Metadata = step.md
		got, err := n.Invoke(asCaller("ada"), inv)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got != step.want {
			t.Errorf("%s: got %q, want %q", step.name, got, step.want)
		}
		if ran := runs.Swap(0) == 1; ran != step.ran {
			t.Errorf("%s: the method ran: %v, want %v", step.name, ran, step.ran)
		}
	}
}

// TestVaryByRefused: VaryBy without a key, or with an empty one, fails
// Register with an error that names the option.
func TestVaryByRefused(t *testing.T) {
	if got, want := cache.VaryBy("tenant", "locale").String(), `cache.VaryBy("tenant", "locale")`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, opt := range []netron.Policy{cache.VaryBy(), cache.VaryBy("tenant", "")} {
		t.Run(opt.String(), func(t *testing.T) {
			var runs atomic.Int64
			c := cache.New(100)
			defer c.Close()
			n := newNetron(t, c, &runs)
			err := n.Register("greeter", "1.0.0", Greeter{&runs}, netron.WithCache(time.Minute), opt)
			if err == nil || !strings.Contains(err.Error(), opt.String()) {
				t.Fatalf("Register with %s: %v, want an error naming the option", opt, err)
			}
		})
	}
}
