package config_test

import (
	"slices"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A variable at an alias replaces the variable at its key, whichever of
// their names sorts first, as a file's value at an alias replaces the
// file's value at the key (Options.Aliases: "replaces what the same
// source sets at the key").
func TestEnvAtAliasReplacesEnvAtKey(t *testing.T) {
	for _, alias := range []string{"calc.listen", "zed.listen"} { // sorting before and after "net"
		c := load(t, config.Options{
			Aliases: map[string]string{alias: "net.listen"},
			Environ: []string{"TITAN_NET__LISTEN=tcp://key:1", "TITAN_" + map[string]string{"calc.listen": "CALC", "zed.listen": "ZED"}[alias] + "__LISTEN=tcp://alias:1"},
		})
		got, err := config.Section[NetConfig](c, "net")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"tcp://alias:1"}; !slices.Equal(got.Listen, want) {
			t.Errorf("alias %s: listen = %v, want %v (source %s)", alias, got.Listen, want, c.Source("net.listen"))
		}
	}
}
