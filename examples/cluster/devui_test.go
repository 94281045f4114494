package main_test

import (
	"os/exec"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/titanframework/titan/internal/testsrv"
)

// TestDevUIFlag: like every example, a cluster member takes
// --set devui.enabled=true (it then serves the development UI on the
// http:// listeners netron.listen gives it).
func TestDevUIFlag(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(testsrv.BuildProgram(t), "--set", "devui.enabled=true", "--print-config")
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("--set devui.enabled=true --print-config: %v", err)
	}
	var cfg struct {
		DevUI struct {
			Enabled bool `yaml:"enabled"`
		} `yaml:"devui"`
	}
	if err := yaml.Unmarshal(out, &cfg); err != nil || !cfg.DevUI.Enabled {
		t.Fatalf("devui.enabled is not on (%v); configuration:\n%s", err, out)
	}
}
