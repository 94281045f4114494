package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildTitan builds the titan command of this checkout into a temporary
// directory and returns its path.
func buildTitan(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "titan")
	cmd := exec.Command("go", "build", "-o", bin, "./titan")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./titan: %v\n%s", err, out)
	}
	return bin
}

// projectEnv is the environment of the commands the acceptance test runs
// as a user would: outside any workspace, with the go command's defaults
// (go.mod read-only), and without the machine's TITAN_ variables. Offline,
// modules come from the module cache and the Titan checkout only;
// otherwise the machine's GOPROXY applies, so that titan new can fill a
// fresh module cache (go mod tidy needs modules that building Titan's
// own packages never downloads: Windows-only imports, dependencies' test
// imports).
func projectEnv(offline bool) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "TITAN_") || name == "GOFLAGS" || name == "GOWORK" || (offline && name == "GOPROXY") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GOWORK=off")
	if offline {
		env = append(env, "GOPROXY=off")
	}
	return env
}

// runIn runs name with args in dir, offline (see projectEnv), fails the
// test when it fails, and returns its output.
func runIn(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	return runEnv(t, true, dir, name, args...)
}

// runEnv is runIn, offline or not.
func runEnv(t *testing.T, offline bool, dir, name string, args ...string) string {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = projectEnv(offline)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), dir, err, out)
	}
	t.Logf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(10*time.Millisecond))
	return string(out)
}

// TestAcceptance: titan new, built from this checkout, writes a project
// of each template that go vet passes at once (no go mod tidy by hand);
// after titan generate service orders, which adds a package and changes
// main.go only, go build, go vet and go test pass on the whole project,
// the template's own packages and tests included. titan new may reach the module proxy (a fresh machine's module
// cache lacks what go mod tidy reads); everything after it runs offline,
// which proves that the go.mod and go.sum it wrote are complete. The go
// commands share the module and build caches, so after the first project
// most of Titan is compiled already.
func TestAcceptance(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go is not on PATH: the acceptance test builds projects")
	}
	root := checkoutRoot(t)
	titan := buildTitan(t, root)
	for _, template := range []string{"service", "gateway", "worker"} {
		t.Run(template, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out := runEnv(t, false, dir, titan, "new", "demo", "--template", template, "--titan", root)
			if !strings.Contains(out, "completed go.mod and go.sum") {
				t.Fatalf("titan new did not complete go.mod and go.sum:\n%s", out)
			}
			project := filepath.Join(dir, "demo")
			// The fresh project is type-checked and vetted here; its
			// packages are built, linked and tested below, where
			// titan generate has changed nothing of them but main.go.
			runIn(t, project, "go", "vet", "./...")

			out = runIn(t, project, titan, "generate", "service", "orders")
			for _, want := range []string{"wrote orders/service.go", "wrote orders/service_test.go", "changed main.go: imports demo/orders and registers titan.Service(orders.Name, orders.Version, orders.New)"} {
				if !strings.Contains(out, want) {
					t.Errorf("titan generate lacks %q:\n%s", want, out)
				}
			}
			runIn(t, project, "go", "build", "./...")
			// go vet ran every analyzer on every package, test files
			// included: go test need not run its subset of them again.
			runIn(t, project, "go", "vet", "./...")
			runIn(t, project, "go", "test", "-count=1", "-vet=off", "./...")
			main, err := os.ReadFile(filepath.Join(project, "main.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(main), "\t\ttitan.Service(orders.Name, orders.Version, orders.New),\n\t).Run()") {
				t.Errorf("main.go does not end titan.New with the service:\n%s", main)
			}
		})
	}
}
