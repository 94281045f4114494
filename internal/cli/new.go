package cli

import (
	"cmp"
	"errors"
	"fmt"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/modfile"

	"github.com/titanframework/titan"
)

func init() { register("project", newNew) }

// titanModule is the module path of Titan, which generated projects require.
const titanModule = "github.com/titanframework/titan"

// defaultTemplate is the template of titan new without --template.
const defaultTemplate = "service"

// projectName is the form of NAME: lowercase words of letters and digits,
// joined by single dashes, starting with a letter.
var projectName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// reservedNames are the names a generated file declares or imports next
// to the package of NAME, which must therefore differ from them
// (TestReservedNames keeps the list whole). The names declared inside the
// files' functions need not differ: the files that declare such names,
// the tests, import the package under the fixed name service
// (TestNamesThatBreakTheGeneratedCode).
var reservedNames = []string{
	"bufio", "context", "embedded", "http", "iter", "json", "main", "netron", "slog", "strconv",
	"strings", "sync", "testing", "titan", "titantest", "utf8",
}

// newFlags are the flags of titan new.
type newFlags struct {
	module   string
	template string
	titanDir string
}

// projectData is what the template files are executed with.
type projectData struct {
	Name         string // NAME, the directory and service name
	Package      string // NAME as a Go identifier, the service's package
	Module       string // the module path
	Binary       string // the name go build gives the command
	GoVersion    string // the go line of go.mod
	TitanModule  string
	TitanVersion string // the required version of Titan
	TitanDir     string // the Titan checkout go.mod replaces Titan with; empty for none
}

// GoModTitanDir is TitanDir as go.mod writes it: quoted when it holds a
// space or another character go.mod would misread.
func (d projectData) GoModTitanDir() string { return modfile.AutoQuote(d.TitanDir) }

func newNew() *cobra.Command {
	var f newFlags
	cmd := &cobra.Command{
		Use:   "new NAME [--module PATH] [--template NAME] [--titan DIR]",
		Short: "Create a project from a template",
		Long: `Create the directory NAME holding a Titan project: main.go, a service
with a struct argument, a struct result and a stream, its tests,
titan.yaml, README.md, a Makefile and .gitignore.

NAME is lowercase letters, digits and dashes, starting with a letter; it
names the directory, the service and (without its dashes) the service's
package, which must not be a Go keyword, a predeclared name (string,
len, ...) or init, and which is not testdata or vendor (directories the
go command treats apart). The directory must not exist or be empty.

--module sets the module path (default NAME), one the go command
accepts: not std, cmd, all or tool, nor a standard package's path
(errors), nor with an element Windows reserves (con, aux, nul, com1,
...). --template chooses the template: service (the default; Netron over
tcp://), gateway (a JSON API over http:// with an OpenAPI document) or
worker (a service over nats://, whose instances share the calls). When
titan runs from a Titan source checkout, or with --titan DIR naming one,
go.mod replaces Titan with that checkout and takes its go line.

titan new then completes go.mod and go.sum with the go command (go mod
tidy), so that go run . and go test ./... work at once; with a checkout
this works offline once the checkout has been built. Without the go
command on PATH it says so and leaves that step to you.

Exit codes: 0 when the project is ready, 2 for a bad NAME, module path,
template or --titan, or a directory that is not empty (nothing is
written then), 1 when go.mod and go.sum could not be completed (the
project is written; run go mod tidy in it later).`,
		Args: usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error { return runNew(cmd, args[0], f) },
	}
	cmd.Flags().StringVar(&f.module, "module", "", "module path of the project (default NAME)")
	cmd.Flags().StringVar(&f.template, "template", defaultTemplate, "template: "+strings.Join(templateNames(), ", "))
	cmd.Flags().StringVar(&f.titanDir, "titan", "", "Titan checkout to build against (a replace directive)")
	return cmd
}

func runNew(cmd *cobra.Command, name string, f newFlags) error {
	pkg, err := packageName(name)
	if err != nil {
		return &usageError{fmt.Errorf("invalid project name %q: %w", name, err)}
	}
	if !slices.Contains(templateNames(), f.template) {
		return &usageError{fmt.Errorf("unknown template %q (templates: %s)", f.template, strings.Join(templateNames(), ", "))}
	}
	data := projectData{
		Name:         name,
		Package:      pkg,
		Module:       cmp.Or(f.module, name),
		GoVersion:    toolchainGoVersion(),
		TitanModule:  titanModule,
		TitanVersion: "v" + titan.Version,
	}
	if err := checkModulePath(data.Module); err != nil {
		if f.module == "" {
			return &usageError{fmt.Errorf("invalid project name %q: it is the module path too (no --module), and %w; choose another NAME, or give --module", name, err)}
		}
		return &usageError{fmt.Errorf("--module: invalid module path %q: %w (e.g. example.com/you/demo, or just demo)", f.module, err)}
	}
	data.Binary = binaryName(data.Module)
	checkout := f.titanDir
	if checkout == "" {
		checkout = findCheckout()
	}
	if checkout != "" {
		abs, goVersion, err := readCheckout(checkout)
		if err != nil {
			return &usageError{fmt.Errorf("--titan: %w", err)}
		}
		data.TitanDir, data.GoVersion, data.TitanVersion = filepath.ToSlash(abs), goVersion, "v0.0.0"
	}
	created, err := checkEmpty(name)
	if err != nil {
		return &usageError{err}
	}
	files, err := renderProject(f.template, data, pkg)
	if err != nil {
		return err
	}
	if data.TitanDir != "" {
		// Its hashes let the go command complete go.sum without asking
		// the checksum database; tidy keeps those the project needs.
		if sum, err := os.ReadFile(filepath.Join(data.TitanDir, "go.sum")); err == nil {
			files = append(files, renderedFile{"go.sum", sum})
		}
	}
	out := cmd.OutOrStdout()
	if err := writeProject(name, files, created); err != nil {
		return err
	}
	for _, file := range files {
		fmt.Fprintf(out, "wrote %s\n", filepath.ToSlash(filepath.Join(name, file.path)))
	}
	if data.TitanDir != "" {
		fmt.Fprintf(out, "go.mod replaces %s with %s\n", titanModule, data.TitanDir)
	}
	var goErr *goCommandError
	switch err := completeModule(name); {
	case errors.Is(err, errNoGo):
		fmt.Fprintf(cmd.ErrOrStderr(), "titan: %v: install Go %s or later, then run `go mod tidy` in %s once\n", err, data.GoVersion, name)
	case errors.As(err, &goErr) && goErr.download():
		return fmt.Errorf("wrote the project %s, but could not complete its go.mod and go.sum (run `go mod tidy` in %s once the Go module proxy can be reached): %w", name, name, err)
	case err != nil:
		return fmt.Errorf("wrote the project %s, but could not complete its go.mod and go.sum (fix what the go command reports, then run `go mod tidy` in %s): %w", name, name, err)
	default:
		fmt.Fprintf(out, "completed go.mod and go.sum (go mod tidy)\n")
	}
	_, err = fmt.Fprintf(out, "\nnext:\n\n  cd %s\n  go run .\n  go test ./...\n", name)
	return err
}

// writeProject writes files under dir, which is missing (created is
// true) or empty. When a write fails, it removes what it wrote: dir when
// it created it, else the files and directories it wrote into dir.
func writeProject(dir string, files []renderedFile, created bool) error {
	err := writeFiles(dir, files)
	if err == nil {
		return nil
	}
	if created {
		_ = os.RemoveAll(dir)
		return err
	}
	var tops []string // the first elements of the files' paths
	for _, f := range files {
		top, _, _ := strings.Cut(f.path, "/")
		if !slices.Contains(tops, top) {
			tops = append(tops, top)
			_ = os.RemoveAll(filepath.Join(dir, top))
		}
	}
	return err
}

// writeFiles writes files under dir.
func writeFiles(dir string, files []renderedFile) error {
	for _, file := range files {
		dst := filepath.Join(dir, filepath.FromSlash(file.path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, file.body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// packageName checks NAME, of a project or a service, and returns it as
// a Go package name: without its dashes. Its error says what is wrong
// with the name, without naming it.
func packageName(name string) (string, error) {
	if !projectName.MatchString(name) {
		return "", errors.New("want lowercase letters, digits and dashes, starting with a letter (e.g. my-service)")
	}
	pkg := strings.ReplaceAll(name, "-", "")
	switch {
	case token.IsKeyword(pkg):
		return "", fmt.Errorf("its package name %q is a Go keyword", pkg)
	case types.Universe.Lookup(pkg) != nil:
		return "", fmt.Errorf("its package name %q is predeclared in Go (a built-in type, constant or function)", pkg)
	case pkg == "init":
		// Go keeps init for functions: no file can import the package
		// under its own name, as main.go does.
		return "", errors.New(`its package name "init" cannot be imported under its name (Go keeps init for functions)`)
	case pkg == "testdata":
		// The package's directory is named so.
		return "", errors.New(`its package's directory "testdata" is one the go command leaves out of ./... (go test ./... would never run its tests)`)
	case pkg == "vendor":
		return "", errors.New(`its package's directory "vendor" is the one the go command keeps vendored dependencies in`)
	case slices.Contains(reservedNames, pkg):
		return "", fmt.Errorf("its package name %q clashes with a name the generated files use", pkg)
	}
	return pkg, nil
}

// checkEmpty refuses a directory that exists and is not empty, or a file.
// It reports whether dir does not exist yet (titan new creates it, and
// removes it again when writing fails).
func checkEmpty(dir string) (missing bool, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("cannot write the project to %s: %w", dir, err)
	case len(entries) > 0:
		return false, fmt.Errorf("directory %s is not empty; choose another NAME or empty it", dir)
	}
	return false, nil
}

// toolchainGoVersion returns the language version of the Go that built
// titan ("1.26" for go1.26.8), the go line of a project without a Titan
// checkout.
func toolchainGoVersion() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	if major, rest, ok := strings.Cut(v, "."); ok {
		minor, _, _ := strings.Cut(rest, ".")
		return major + "." + minor
	}
	return v
}

// findCheckout returns the Titan source checkout titan runs from: when the
// binary was built from the Titan module, the first directory holding
// Titan's go.mod above the executable or the working directory. It
// returns "" otherwise.
func findCheckout() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Path != titanModule {
		return ""
	}
	var starts []string
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			if _, _, err := readCheckout(dir); err == nil {
				return dir
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}

// readCheckout checks that dir holds Titan's go.mod and returns dir made
// absolute and the go.mod's go version.
func readCheckout(dir string) (abs, goVersion string, err error) {
	abs, err = filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	m, err := readGoMod(filepath.Join(abs, "go.mod"))
	if err != nil {
		return "", "", fmt.Errorf("%s is not a Titan checkout: %w", dir, err)
	}
	if m.module != titanModule {
		return "", "", fmt.Errorf("%s is not a Titan checkout: its go.mod is not module %s", dir, titanModule)
	}
	return abs, cmp.Or(m.goVersion, toolchainGoVersion()), nil
}
