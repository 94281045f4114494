package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// offline keeps the go command that titan new runs from the network:
// modules come from the module cache and the Titan checkout only.
func offline(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	goDefaults(t)
}

// goDefaults gives the go command that titan new runs its defaults, outside
// any workspace; the machine's GOPROXY applies, so that go mod tidy can
// fill a fresh module cache (Titan itself comes from the checkout).
func goDefaults(t *testing.T) {
	t.Setenv("GOFLAGS", "")
	t.Setenv("GOWORK", "off")
}

// TestNewWritesAProject: titan new writes every file of the template,
// replaces Titan with the checkout, and completes go.mod and go.sum.
// (TestAcceptance builds and tests the projects.)
func TestNewWritesAProject(t *testing.T) {
	root := checkoutRoot(t)
	dir := isolate(t)
	goDefaults(t)
	code, stdout, stderr := run(t, "new", "demo", "--titan", root)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"wrote demo/main.go", "wrote demo/demo/service.go", "wrote demo/demo/service_test.go",
		"wrote demo/titan.yaml", "wrote demo/README.md", "wrote demo/Makefile", "wrote demo/.gitignore",
		"wrote demo/go.mod", "wrote demo/go.sum", "completed go.mod and go.sum", "cd demo\n  go run .\n  go test ./...",
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
	for _, want := range []string{
		"replace github.com/titanframework/titan => " + filepath.ToSlash(root),
		"require (", "github.com/titanframework/titan v0.0.0", "go.uber.org/fx", // tidy's work
	} {
		if !strings.Contains(string(mod), want) {
			t.Errorf("go.mod lacks %q:\n%s", want, mod)
		}
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
	readme, err := os.ReadFile(filepath.Join(project, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(readme), "go mod tidy") || !strings.Contains(string(readme), "    go run .\n") || !strings.Contains(string(readme), "    go test ./...\n") {
		t.Errorf("README.md does not give the two commands alone:\n%s", readme)
	}
}

// TestNewTemplates: each template has its listener, its own files and
// the files of _base.
func TestNewTemplates(t *testing.T) {
	root := checkoutRoot(t)
	dir := isolate(t)
	goDefaults(t)
	for template, want := range map[string][]string{
		"service": {"main.go:tcp://127.0.0.1:7070", "titan.yaml:listen: [tcp://127.0.0.1:7070]"},
		"gateway": {"main.go:http://127.0.0.1:8080", "main.go:titan.HTTP(gw.HTTPPath)", "gw/http.go:const HTTPPath = \"/api/gw\"", "README.md:/openapi.json"},
		"worker":  {"main.go:nats://127.0.0.1:4222", "main.go:modules/netron/nats", "README.md:--set netron.listen=nats://", "worker/service_test.go:embedded.Start()"},
	} {
		name := map[string]string{"service": "svc", "gateway": "gw", "worker": "worker"}[template]
		if code, _, stderr := run(t, "new", name, "--template", template, "--titan", root); code != 0 {
			t.Fatalf("%s: exit %d, stderr:\n%s", template, code, stderr)
		}
		for _, file := range []string{"Makefile", ".gitignore", "go.mod", "go.sum", "titan.yaml", "README.md", "main.go", name + "/service.go", name + "/service_test.go"} {
			if _, err := os.Stat(filepath.Join(dir, name, file)); err != nil {
				t.Errorf("%s: %v", template, err)
			}
		}
		for _, w := range want {
			file, text, _ := strings.Cut(w, ":")
			b, err := os.ReadFile(filepath.Join(dir, name, file))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), text) {
				t.Errorf("%s: %s lacks %q:\n%s", template, file, text, b)
			}
		}
	}
}

// TestNewPackageFromName: a dashed NAME gives a package without dashes,
// under the --module path.
func TestNewPackageFromName(t *testing.T) {
	root := checkoutRoot(t)
	dir := isolate(t)
	goDefaults(t)
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

// wantNothingWritten fails the test when dir holds anything but keep.
func wantNothingWritten(t *testing.T, dir string, keep ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != strings.Join(keep, ",") {
		t.Errorf("%s holds %v, want %v", dir, names, keep)
	}
}

// wantUsageError wants exit code 2 and an error on one line that holds
// want, then cobra's hint to --help.
func wantUsageError(t *testing.T, code int, stderr, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 2 || !strings.HasPrefix(lines[0], "titan: ") || !strings.Contains(lines[0], want) || len(lines) > 2 {
		t.Fatalf("exit %d, stderr:\n%s\nwant 2 and one line with %q", code, stderr, want)
	}
}

// TestNewRefusesNonEmptyDirectory: a directory with files in it is left
// alone; an empty one is used.
func TestNewRefusesNonEmptyDirectory(t *testing.T) {
	root := checkoutRoot(t)
	dir := isolate(t)
	goDefaults(t)
	if err := os.Mkdir(filepath.Join(dir, "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	keep := writeFile(t, filepath.Join(dir, "demo"), "notes.txt", "mine")
	code, _, stderr := run(t, "new", "demo", "--titan", root)
	wantUsageError(t, code, stderr, "directory demo is not empty")
	wantNothingWritten(t, filepath.Join(dir, "demo"), "notes.txt")
	if b, err := os.ReadFile(keep); err != nil || string(b) != "mine" {
		t.Fatalf("notes.txt = %q, %v", b, err)
	}
	writeFile(t, dir, "afile", "")
	code, _, stderr = run(t, "new", "afile", "--titan", root)
	wantUsageError(t, code, stderr, "cannot write the project to afile")

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
	for _, name := range []string{"Demo", "1demo", "de_mo", "demo-", "my--app", "-demo", "a/b", "", "func", "titan", "http", "sync", "testdata", "vendor"} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, "new", "--", name)
			wantUsageError(t, code, stderr, "invalid project name")
		})
	}
	if code, _, _ := run(t, "new"); code != 2 {
		t.Errorf("no NAME: exit %d, want 2", code)
	}
	wantNothingWritten(t, dir)
}

// TestNewBadModulePath: a --module that the go command would refuse is a
// usage error, and nothing is written.
func TestNewBadModulePath(t *testing.T) {
	dir := isolate(t)
	for _, module := range []string{
		"/demo", "demo/", "example.com//demo", "example.com/de mo", "Example.com/demo",
		"example.com/.demo", "example.com/demo.", "-demo", "example.com/demo/v1", "example.com/dé",
	} {
		t.Run(module, func(t *testing.T) {
			code, _, stderr := run(t, "new", "demo", "--module", module)
			wantUsageError(t, code, stderr, "--module: invalid module path")
		})
	}
	wantNothingWritten(t, dir)
}

// TestNewUnknownTemplate: the error lists the templates there are.
func TestNewUnknownTemplate(t *testing.T) {
	dir := isolate(t)
	code, _, stderr := run(t, "new", "demo", "--template", "web")
	wantUsageError(t, code, stderr, `unknown template "web" (templates: gateway, service, worker)`)
	code, _, stderr = run(t, "new", "demo", "--template", "_base")
	wantUsageError(t, code, stderr, `unknown template "_base"`)
	wantNothingWritten(t, dir)
}

// TestNewBadCheckout: --titan naming a directory that is not a Titan
// checkout is a usage error, and nothing is written.
func TestNewBadCheckout(t *testing.T) {
	dir := isolate(t)
	other := t.TempDir()
	writeFile(t, other, "go.mod", "module example.com/other\n\ngo 1.26\n")
	for _, checkout := range []string{other, filepath.Join(other, "missing")} {
		code, _, stderr := run(t, "new", "demo", "--titan", checkout)
		wantUsageError(t, code, stderr, "--titan: ")
		if !strings.Contains(stderr, "is not a Titan checkout") {
			t.Errorf("stderr:\n%s", stderr)
		}
	}
	wantNothingWritten(t, dir)
}

// TestNewWithoutGo: without the go command, the project is written and
// the message says what to do once Go is there.
func TestNewWithoutGo(t *testing.T) {
	root := checkoutRoot(t)
	dir := isolate(t)
	t.Setenv("PATH", t.TempDir())
	code, stdout, stderr := run(t, "new", "demo", "--titan", root)
	if code != 0 || !strings.Contains(stderr, "the go command is not on PATH: install Go") || !strings.Contains(stderr, "run `go mod tidy` in demo once") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(stdout, "completed go.mod") {
		t.Errorf("stdout claims go.mod was completed:\n%s", stdout)
	}
	wantNothingWritten(t, dir, "demo")
}

// TestNewUnreachableTitan: when the go command cannot find Titan (no
// checkout, and no module proxy), the project is written and the error
// says that go.mod and go.sum are incomplete and what to run.
func TestNewUnreachableTitan(t *testing.T) {
	dir := isolate(t)
	offline(t)
	code, _, stderr := run(t, "new", "demo") // a test binary is no checkout: no replace
	if code != 1 || !strings.Contains(stderr, "wrote the project demo, but could not complete its go.mod and go.sum (run `go mod tidy` in demo once the Go module proxy can be reached)") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", "main.go")); err != nil {
		t.Fatal(err)
	}
}

// TestNewNameShadowsGeneratedCode: a NAME whose package name is also a
// local of the generated files (p, t, ctx, got, ...) or a predeclared
// identifier (len, string, ...), or init, which Go lets no import take
// as its name, is refused, as a project of that name would not compile:
// titan new either refuses it or writes a project in which go vet passes.
func TestNewNameShadowsGeneratedCode(t *testing.T) {
	root := checkoutRoot(t)
	for _, name := range []string{"p", "len", "string", "init"} {
		t.Run(name, func(t *testing.T) {
			dir := isolate(t)
			goDefaults(t)
			code, _, stderr := run(t, "new", name, "--titan", root)
			if code == 2 {
				wantUsageError(t, code, stderr, "invalid project name")
				wantNothingWritten(t, dir)
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			cmd := exec.Command("go", "vet", "./...")
			cmd.Dir = filepath.Join(dir, name)
			cmd.Env = projectEnv(true)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("titan new %s exited 0, but go vet ./... fails in the project:\n%s", name, firstLines(string(out), 4))
			}
		})
	}
}

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// TestNewModulePathTheGoCommandRefuses: module paths that the go command
// refuses (Windows-reserved elements, elements ending in a tilde and
// digits, the names of its package patterns, a standard package's path)
// are usage errors that name where the path came from (--module, or
// NAME), and nothing is written; the error does not blame the module
// proxy.
func TestNewModulePathTheGoCommandRefuses(t *testing.T) {
	root := checkoutRoot(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--module", "example.com/con"}, `--module: invalid module path "example.com/con"`},
		{[]string{"demo", "--module", "example.com/Aux.txt"}, `--module: invalid module path "example.com/Aux.txt"`},
		{[]string{"demo", "--module", "example.com/x~1"}, `--module: invalid module path "example.com/x~1"`},
		{[]string{"demo", "--module", "all"}, `--module: invalid module path "all"`},
		{[]string{"demo", "--module", "net/http"}, `--module: invalid module path "net/http"`},
		{[]string{"con"}, `invalid project name "con"`},
		{[]string{"com1"}, `invalid project name "com1"`},
		{[]string{"cmd"}, `invalid project name "cmd"`},
		{[]string{"std"}, `invalid project name "std"`},
		{[]string{"tool"}, `invalid project name "tool"`},
		{[]string{"toolchain"}, `invalid project name "toolchain"`},
		{[]string{"errors"}, `invalid project name "errors"`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir := isolate(t)
			goDefaults(t)
			code, _, stderr := run(t, append(append([]string{"new"}, tt.args...), "--titan", root)...)
			wantUsageError(t, code, stderr, tt.want)
			if strings.Contains(stderr, "proxy") {
				t.Errorf("the error blames the module proxy:\n%s", stderr)
			}
			wantNothingWritten(t, dir)
		})
	}
}

// TestNewCheckoutPathWithSpace: a Titan checkout whose path holds a space
// (~/My Projects/titan) gives a go.mod the go command can parse.
func TestNewCheckoutPathWithSpace(t *testing.T) {
	root := checkoutRoot(t)
	link := filepath.Join(t.TempDir(), "my titan")
	if err := os.Symlink(root, link); err != nil {
		t.Skip(err)
	}
	dir := isolate(t)
	goDefaults(t)
	code, _, stderr := run(t, "new", "demo", "--titan", link)
	if code != 0 {
		t.Fatalf("titan new demo --titan %q: exit %d, stderr:\n%s", link, code, stderr)
	}
	mod, err := os.ReadFile(filepath.Join(dir, "demo", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "=> " + strconv.Quote(filepath.ToSlash(link)); !strings.Contains(string(mod), want) {
		t.Errorf("go.mod lacks %s:\n%s", want, mod)
	}
}

// TestNewMajorVersionModuleIgnoresItsBinary: with --module
// example.com/demo/v2, go build names the binary demo (not v2), and
// .gitignore ignores that one.
func TestNewMajorVersionModuleIgnoresItsBinary(t *testing.T) {
	root := checkoutRoot(t)
	dir := isolate(t)
	goDefaults(t)
	if code, _, stderr := run(t, "new", "demo", "--module", "example.com/demo/v2", "--titan", root); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "demo", ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "/demo\n") {
		t.Errorf(".gitignore does not ignore the binary go build writes (demo):\n%s", b)
	}
}
