package titan_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
)

// TestConfigDefaultAndAlias: an app sets its own netron.listen default,
// which configuration replaces, under the key's name or its alias, whatever
// the order of the options.
func TestConfigDefaultAndAlias(t *testing.T) {
	t.Parallel()
	appDefaults := []titan.Option{
		titan.WithConfigDefault("netron.listen", []string{"tcp://127.0.0.1:0"}),
		titan.WithConfigAlias("calculator.listen", "netron.listen"),
	}
	tests := []struct {
		name string
		opts []titan.Option
		want []string // schemes listened on
	}{
		{"default", append(appDefaults, titan.WithConfig(quiet())), []string{"tcp"}},
		{"WithConfig first", append([]titan.Option{titan.WithConfig(quiet())}, appDefaults...), []string{"tcp"}},
		{"key", append(appDefaults, titan.WithConfig(quiet("netron.listen=ws://127.0.0.1:0"))), []string{"ws"}},
		{"alias", append(appDefaults, titan.WithConfig(quiet("calculator.listen=http://127.0.0.1:0,mem://"))), []string{"http", "mem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n *netron.Netron
			app := startApp(t, append(tt.opts,
				titan.Service("calculator", "1.0.0", NewCalculator),
				titan.Invoke(func(x *netron.Netron) { n = x }),
			)...)
			var schemes []string
			for _, a := range n.Addrs() {
				s, _, _ := strings.Cut(a, "://")
				schemes = append(schemes, s)
			}
			slices.Sort(schemes)
			if !slices.Equal(schemes, tt.want) {
				t.Fatalf("listening on %v, want %v", n.Addrs(), tt.want)
			}
			if w := app.Config().Warnings(); len(w) != 0 {
				t.Fatalf("warnings: %v", w)
			}
		})
	}
}

func TestConfigDefaultAndAliasRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []titan.Option
		want string
	}{
		{"same key", []titan.Option{titan.WithConfigAlias("netron.listen", "netron.listen")}, `titan: WithConfigAlias("netron.listen", "netron.listen"): want two different keys`},
		{"unknown section", []titan.Option{titan.WithConfigDefault("nope.x", 1)}, `config: default "nope.x": no module registered the section "nope"`},
		{"bad value", []titan.Option{titan.WithConfigDefault("netron.listen", "bogus://x")}, `unknown scheme "bogus"`},
		{"in a module", []titan.Option{titan.Module("m", titan.WithConfigDefault("netron.listen", "tcp://127.0.0.1:0"))}, "app-level option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := titan.New(append([]titan.Option{titan.WithConfig(quiet())}, tt.opts...)...).Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
