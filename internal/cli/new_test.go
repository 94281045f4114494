package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkoutRoot returns the Titan checkout the test runs in (internal/cli
// is two levels down).
func checkoutRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}

// goLine returns the go line of the go.mod in dir.
func goLine(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "go ") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("%s/go.mod has no go line:\n%s", dir, b)
	return ""
}

// goCommand runs go with args in dir, offline: modules come from the local
// module cache and the replaced Titan checkout only.
func goCommand(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// TestNewProjectBuildsAndPasses: titan new writes a project that vets,
// builds and passes its own tests against this checkout.
func TestNewProjectBuildsAndPasses(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	root := checkoutRoot(t)
	dir := isolate(t)
	code, stdout, stderr := run(t, "new", "demo", "--titan", root)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"wrote demo/main.go", "wrote demo/demo/service.go", "wrote demo/demo/service_test.go",
		"wrote demo/titan.yaml", "wrote demo/README.md", "wrote demo/Makefile", "wrote demo/.gitignore",
		"wrote demo/go.mod", "go run .", "go test ./...",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	project := filepath.Join(dir, "demo")
	mod, err := os.ReadFile(filepath.Join(project, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "replace github.com/titanframework/titan => " + filepath.ToSlash(root); !strings.Contains(string(mod), want) {
		t.Errorf("go.mod lacks %q:\n%s", want, mod)
	}
	if got, want := goLine(t, project), goLine(t, root); got != want {
		t.Errorf("go.mod has %q, want the checkout's %q", got, want)
	}
	yaml, err := os.ReadFile(filepath.Join(project, "titan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(yaml), "listen: [tcp://127.0.0.1:7070]") {
		t.Errorf("titan.yaml lacks the default of netron.listen:\n%s", yaml)
	}
	goCommand(t, project, "mod", "tidy")
	goCommand(t, project, "vet", "./...")
	goCommand(t, project, "test", "-count=1", "./...")
}

// TestNewPackageFromName: a dashed NAME gives a package without dashes,
// under the --module path.
func TestNewPackageFromName(t *testing.T) {
	root := checkoutRoot(t)
	dir := isolate(t)
	code, _, stderr := run(t, "new", "my-demo", "--module", "example.com/x/my-demo", "--titan", root)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for file, want := range map[string]string{
		"my-demo/mydemo/service.go": "package mydemo\n",
		"my-demo/main.go":           `"example.com/x/my-demo/mydemo"`,
		"my-demo/go.mod":            "module example.com/x/my-demo\n",
		"my-demo/.gitignore":        "/my-demo\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q:\n%s", file, want, b)
		}
	}
}

// TestNewRefusesNonEmptyDirectory: a directory with files in it is left
// alone; an empty one is used.
func TestNewRefusesNonEmptyDirectory(t *testing.T) {
	root := checkoutRoot(t)
	dir := isolate(t)
	if err := os.Mkdir(filepath.Join(dir, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	keep := writeFile(t, filepath.Join(dir, "demo"), "notes.txt", "mine")
	code, _, stderr := run(t, "new", "demo", "--titan", root)
	if code != 1 || !strings.Contains(stderr, "directory demo is not empty") {
		t.Fatalf("exit %d, stderr:\n%s\nwant 1 and the directory named", code, stderr)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "demo"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("demo holds %v (%v), want only notes.txt", entries, err)
	}
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Fatalf("notes.txt = %q, %v", b, err)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "new", "empty", "--titan", root); code != 0 {
		t.Fatalf("empty directory: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestNewBadName: a NAME that is no package name is a usage error, and
// nothing is written.
func TestNewBadName(t *testing.T) {
	dir := isolate(t)
	for _, name := range []string{"Demo", "1demo", "de_mo", "demo-", "my--app", "-demo", "a/b", "", "func", "titan"} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, "new", "--", name)
			if code != 2 || !strings.Contains(stderr, "invalid project name") {
				t.Fatalf("exit %d, stderr:\n%s\nwant 2 and invalid project name", code, stderr)
			}
		})
	}
	if code, _, _ := run(t, "new"); code != 2 {
		t.Errorf("no NAME: exit %d, want 2", code)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
}

// TestNewUnknownTemplate: the error lists the templates there are.
func TestNewUnknownTemplate(t *testing.T) {
	dir := isolate(t)
	code, _, stderr := run(t, "new", "demo", "--template", "web")
	if code != 2 || !strings.Contains(stderr, `unknown template "web" (templates: service)`) {
		t.Fatalf("exit %d, stderr:\n%s\nwant 2 and the templates listed", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
}
