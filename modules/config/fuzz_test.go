package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// FuzzConfigFile loads any bytes as a configuration file of each format:
// the load never panics, a refusal names the file, and what loads decodes
// into its section's Go type.
func FuzzConfigFile(f *testing.F) {
	for _, s := range []struct {
		ext  uint8
		body string
	}{
		{0, "net:\n  listen: [\"tcp://127.0.0.1:1\"]\n  mode: fast\n  limits:\n    maxConns: 5\n"},
		{0, "net:\n  limits: {maxConns: 0}\n"},
		{0, "net: [1, 2\n"},
		{0, "net:\n  requestTimeout: 5s\n  remotes: {a: b}\n# comment\n"},
		{1, `{"net":{"listen":["tcp://127.0.0.1:1"],"debug":true,"limits":{"ratio":0.25}}}`},
		{1, `{"net":{"mode":"slow"}}`},
		{1, `{"net":`},
		{2, "[net]\nmode = \"fast\"\n[net.limits]\nmaxConns = 7\n"},
		{2, "[net\nmode = 1\n"},
		{2, "a.b = {c = 1, d = [ {e = 2}, 3 ]}\n[[x]]\ny = 1\n[x.z]\nw = 2\n[[x]]\n[[x.v]]\n[net]\nmode = \"safe\"\n"},
	} {
		f.Add([]byte(s.body), s.ext)
	}
	f.Fuzz(func(t *testing.T, body []byte, ext uint8) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app"+[]string{".yaml", ".json", ".toml"}[ext%3])
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := config.Load(config.Options{Files: []string{path}, Dir: dir, NoEnv: true, NoWatch: true}, spec())
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error does not name the file %s: %v", path, err)
			}
			return
		}
		var out NetConfig
		if err := c.Decode("net", &out); err != nil {
			t.Fatalf("loaded, but the section does not decode: %v", err)
		}
	})
}

// FuzzConfigEnv sets any value through an environment variable of each
// key: the load never panics, a refusal names the variable, and what
// loads decodes into its section's Go type.
func FuzzConfigEnv(f *testing.F) {
	for _, s := range []struct{ key, value string }{
		{"NET__LISTEN", "tcp://127.0.0.1:1,ws://127.0.0.1:2"}, {"NET__LISTEN", `["tcp://a:1"]`}, {"NET__LISTEN", `[1`},
		{"NET__REQUESTTIMEOUT", "5s"}, {"NET__REQUESTTIMEOUT", "five"}, {"NET__MODE", "fast"}, {"NET__DEBUG", "maybe"},
		{"NET__LIMITS__MAXCONNS", "0"}, {"NET__LIMITS__RATIO", "NaN"}, {"NET__REMOTES", `{"a":"b"}`}, {"NET__REMOTES", `{"a":1}`},
		{"NET__LIMITS", `{"maxConns":3}`}, {"NET__UNKNOWN", "x"}, {"NET", "x"},
	} {
		f.Add(s.key, s.value)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		name := "TITAN_" + key
		if strings.ContainsAny(name, "=\x00") {
			return
		}
		c, err := config.Load(config.Options{Environ: []string{name + "=" + value}, Dir: t.TempDir(), NoDefaultFile: true, NoWatch: true}, spec())
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("the error does not name the variable %s: %v", name, err)
			}
		} else {
			var out NetConfig
			if err := c.Decode("net", &out); err != nil {
				t.Fatalf("loaded, but the section does not decode: %v", err)
			}
		}
		// The same key and value from the command line.
		set := strings.ReplaceAll(strings.ToLower(key), "__", ".") + "=" + value
		c, err = config.Load(config.Options{Environ: []string{}, Sets: []string{set}, Dir: t.TempDir(), NoDefaultFile: true, NoWatch: true}, spec())
		if err != nil {
			if !strings.Contains(err.Error(), "--set") {
				t.Fatalf("the error does not name the flag --set %s: %v", set, err)
			}
			return
		}
		var out NetConfig
		if err := c.Decode("net", &out); err != nil {
			t.Fatalf("--set %s loaded, but the section does not decode: %v", set, err)
		}
	})
}
