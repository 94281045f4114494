package config_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type portsConfig struct {
	Port  int   `json:"port"`
	Mode  int   `json:"mode"`
	Spare []int `json:"spare,omitempty"`
}

// YAML reads an integer written with a leading zero (010) as octal (8),
// where a variable or a --set flag reads the same text as decimal (10),
// and JSON and TOML refuse it: the value would change with the source,
// silently. Load refuses it, naming the key and the line; a value that
// reads the same either way (07, 00) and an explicit 0o10 stay valid.
func TestYAMLLeadingZeroIntegerIsRefused(t *testing.T) {
	file := write(t, t.TempDir(), "ports.yaml", "ports:\n  port: 010\n  mode: 0644\n  spare: [1, 011]\n")
	_, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}}, config.NewSpec("ports", portsConfig{}))
	if err == nil {
		t.Fatal("Load read 010 as 8 without a word")
	}
	for _, want := range []string{"ports.port", "ports.yaml:2", "010", "ports.mode", "ports.yaml:3", "0o644", "ports.spare.1", "ports.yaml:4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}

	ok := write(t, t.TempDir(), "ports.yaml", "ports:\n  port: 07\n  mode: 0o644\n  spare: [00, 10]\n")
	c, err := config.Load(config.Options{Files: []string{ok}, Environ: []string{}}, config.NewSpec("ports", portsConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Section[portsConfig](c, "ports")
	if err != nil {
		t.Fatal(err)
	}
	if got.Port != 7 || got.Mode != 0o644 || len(got.Spare) != 2 || got.Spare[0] != 0 || got.Spare[1] != 10 {
		t.Fatalf("got %+v", got)
	}
}
