package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A variable's name is upper case, so it cannot spell a map key that has
// upper-case letters: it sets the key a default or a file already holds,
// matched ignoring case, '_' and '-', rather than a lowercased one that
// nothing reads. A key that no earlier source holds is lowercased, as a
// --set key written in upper case is.
func TestEnvSetsAMapKeyAFileHolds(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "titan.yaml")
	if err := os.WriteFile(file, []byte("log:\n  modules:\n    MyModule: info\n    http-server: info\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := config.NewSpec("log", Levels{Level: "info", Format: "text", Modules: map[string]string{"Netron": "warn"}})
	c, err := config.Load(config.Options{Files: []string{file}, NoWatch: true, Environ: []string{
		"TITAN_LOG__MODULES__MYMODULE=debug", "TITAN_LOG__MODULES__HTTP_SERVER=error",
		"TITAN_LOG__MODULES__NETRON=error", "TITAN_LOG__MODULES__OTHER=debug",
	}}, spec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Section[Levels](c, "log")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"MyModule": "debug", "http-server": "error", "Netron": "error", "other": "debug"}
	if len(got.Modules) != len(want) {
		t.Errorf("modules = %v, want %v", got.Modules, want)
	}
	for k, v := range want {
		if got.Modules[k] != v {
			t.Errorf("modules[%q] = %q, want %q (all: %v)", k, got.Modules[k], v, got.Modules)
		}
	}
	if src := c.Source("log.modules.MyModule"); src != "env TITAN_LOG__MODULES__MYMODULE" {
		t.Errorf("log.modules.MyModule comes from %q, want the variable", src)
	}
}
