package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// TestAppDefaults: an app's defaults replace a section's and are replaced
// by every other source.
func TestAppDefaults(t *testing.T) {
	file := write(t, t.TempDir(), "app.yaml", "net:\n  listen: [tcp://file:1]\n")
	appDefaults := map[string]any{
		"net.listen":          []string{"tcp://app:1", "ws://app:2"},
		"net.limits.maxConns": "7", // converted as --set would
	}
	tests := []struct {
		name    string
		o       config.Options
		want    []string
		wantSrc string
	}{
		{"app default", config.Options{}, []string{"tcp://app:1", "ws://app:2"}, "default"},
		{"file", config.Options{Files: []string{file}}, []string{"tcp://file:1"}, file + ":2"},
		{"env", config.Options{Environ: []string{"TITAN_NET__LISTEN=tcp://env:1"}}, []string{"tcp://env:1"}, "env TITAN_NET__LISTEN"},
		{"flag", config.Options{Sets: []string{"net.listen=tcp://flag:1"}}, []string{"tcp://flag:1"}, "flag --set net.listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Defaults = appDefaults
			c := load(t, tt.o)
			got, err := config.Section[NetConfig](c, "net")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Listen, tt.want) || got.Limits.MaxConns != 7 || got.Mode != "safe" {
				t.Fatalf("got %+v, want listen %v, maxConns 7, mode safe", got, tt.want)
			}
			if src := c.Source("net.listen"); src != tt.wantSrc {
				t.Fatalf("source = %q, want %q", src, tt.wantSrc)
			}
		})
	}
}

func TestAppDefaultsRefused(t *testing.T) {
	tests := []struct {
		defaults map[string]any
		want     string
	}{
		{map[string]any{"nope.listen": []string{"x"}}, `config: default "nope.listen": no module registered the section "nope"`},
		{map[string]any{"net..listen": "x"}, `config: default "net..listen": empty key segment`},
		{map[string]any{"net.limits.maxConns": "many"}, `net.limits.maxConns: want an integer, got "many" (from default)`},
		{map[string]any{"net.limits.maxConns": 0}, `net.limits.maxConns: want at least 1, got 0 (from default)`},
	}
	for _, tt := range tests {
		_, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{}, Defaults: tt.defaults}, spec())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Defaults %v: error %v, want %q", tt.defaults, err, tt.want)
		}
	}
}

// TestAliases: a value given at an alias is the key's, in every source,
// replaces what the same source gives at the key, and is reported under
// the alias's name.
func TestAliases(t *testing.T) {
	dir := t.TempDir()
	aliasFile := write(t, dir, "alias.yaml", "old:\n  listen: [tcp://alias:1]\n")
	bothFile := write(t, dir, "both.yaml", "net:\n  listen: [tcp://key:1]\nold:\n  listen: [tcp://alias:1]\n")
	keyFile := write(t, dir, "key.yaml", "net:\n  listen: [tcp://key:1]\n")
	tests := []struct {
		name    string
		o       config.Options
		want    []string
		wantSrc string
	}{
		{"file", config.Options{Files: []string{aliasFile}}, []string{"tcp://alias:1"}, aliasFile + ":2"},
		{"file with both", config.Options{Files: []string{bothFile}}, []string{"tcp://alias:1"}, bothFile + ":4"},
		{"env", config.Options{Environ: []string{"TITAN_OLD__LISTEN=tcp://a:1,tcp://b:2"}}, []string{"tcp://a:1", "tcp://b:2"}, "env TITAN_OLD__LISTEN"},
		{"flag", config.Options{Sets: []string{"old.listen=tcp://flag:1"}}, []string{"tcp://flag:1"}, "flag --set old.listen"},
		{"flag at alias over file at key", config.Options{Files: []string{keyFile}, Sets: []string{"old.listen=tcp://flag:1"}}, []string{"tcp://flag:1"}, "flag --set old.listen"},
		{"flag at key over file at alias", config.Options{Files: []string{aliasFile}, Sets: []string{"net.listen=tcp://flag:1"}}, []string{"tcp://flag:1"}, "flag --set net.listen"},
		{"flags: alias then key, the last wins", config.Options{Sets: []string{"old.listen=tcp://a:1", "net.listen=tcp://k:1"}}, []string{"tcp://k:1"}, "flag --set net.listen"},
		{"flags: key then alias, the last wins", config.Options{Sets: []string{"net.listen=tcp://k:1", "old.listen=tcp://a:1"}}, []string{"tcp://a:1"}, "flag --set old.listen"},
		{"over app defaults", config.Options{Sets: []string{"old.listen=tcp://flag:1"}, Defaults: map[string]any{"net.listen": []string{"tcp://app:1"}}}, []string{"tcp://flag:1"}, "flag --set old.listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Aliases = map[string]string{"old.listen": "net.listen"}
			c := load(t, tt.o)
			got, err := config.Section[NetConfig](c, "net")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Listen, tt.want) {
				t.Fatalf("listen = %v, want %v", got.Listen, tt.want)
			}
			if src := c.Source("net.listen"); src != tt.wantSrc {
				t.Fatalf("source = %q, want %q", src, tt.wantSrc)
			}
			if w := c.Warnings(); len(w) != 0 {
				t.Fatalf("warnings: %v", w)
			}
		})
	}
	_, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{}, Sets: []string{"old.listen=[1]"},
		Aliases: map[string]string{"old.listen": "net.listen"}}, spec())
	var ve *config.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "(from flag --set old.listen)") {
		t.Fatalf("bad value at the alias: %v", err)
	}
}
