package cli

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"go/format"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/templates"
)

func init() { register("project", newNew) }

// titanModule is the module path of Titan, which generated projects require.
const titanModule = "github.com/titanframework/titan"

// defaultTemplate is the template of titan new without --template.
const defaultTemplate = "service"

// packageSegment is the path segment of a template file that becomes the
// project's package name.
const packageSegment = "_package"

// projectName is the form of NAME: lowercase words of letters and digits,
// joined by single dashes, starting with a letter.
var projectName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// importedNames are the package names the generated files import next to
// the project's package, which must therefore differ from them.
var importedNames = []string{"context", "iter", "main", "netron", "slog", "tcp", "testing", "titan", "titantest"}

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

func newNew() *cobra.Command {
	var f newFlags
	cmd := &cobra.Command{
		Use:   "new NAME [--module PATH] [--template NAME] [--titan DIR]",
		Short: "Create a project from a template",
		Long: `Create the directory NAME holding a Titan project: main.go, a service
with its tests, titan.yaml, README.md, a Makefile and .gitignore.

NAME is lowercase letters, digits and dashes, starting with a letter; it
names the directory, the service and (without its dashes) the service's
package. The directory must not exist or be empty.

--module sets the module path (default NAME). --template chooses the
template (default service). When titan runs from a Titan source checkout,
or with --titan DIR naming one, go.mod replaces Titan with that checkout
and takes its go line, and the checkout's go.sum is copied, so that
go mod tidy, which the project needs once, works offline.`,
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
		return &usageError{err}
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
	data.Binary = path.Base(data.Module)
	checkout := f.titanDir
	if checkout == "" {
		checkout = findCheckout()
	}
	if checkout != "" {
		abs, goVersion, err := readCheckout(checkout)
		if err != nil {
			return fmt.Errorf("--titan: %w", err)
		}
		data.TitanDir, data.GoVersion, data.TitanVersion = filepath.ToSlash(abs), goVersion, "v0.0.0"
	}
	if err := checkEmpty(name); err != nil {
		return err
	}
	files, err := render(f.template, data)
	if err != nil {
		return err
	}
	if data.TitanDir != "" {
		if sum, err := os.ReadFile(filepath.Join(data.TitanDir, "go.sum")); err == nil {
			files = append(files, renderedFile{"go.sum", sum})
		}
	}
	out := cmd.OutOrStdout()
	for _, file := range files {
		dst := filepath.Join(name, filepath.FromSlash(file.path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, file.body, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s\n", filepath.ToSlash(dst))
	}
	if data.TitanDir != "" {
		fmt.Fprintf(out, "go.mod replaces %s with %s\n", titanModule, data.TitanDir)
	}
	_, err = fmt.Fprintf(out, "\nnext, after `cd %s && go mod tidy` (once, to complete go.mod and go.sum):\n\n  go run .\n  go test ./...\n", name)
	return err
}

// packageName checks NAME and returns it as a Go package name: without its
// dashes.
func packageName(name string) (string, error) {
	if !projectName.MatchString(name) {
		return "", fmt.Errorf("invalid project name %q: want lowercase letters, digits and dashes, starting with a letter (e.g. my-service)", name)
	}
	pkg := strings.ReplaceAll(name, "-", "")
	if token.IsKeyword(pkg) || slices.Contains(importedNames, pkg) {
		return "", fmt.Errorf("invalid project name %q: its package name %q clashes with a Go keyword or a package the project imports", name, pkg)
	}
	return pkg, nil
}

// templateNames returns the names of the templates, sorted.
func templateNames() []string {
	entries, err := fs.ReadDir(templates.FS, ".")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// checkEmpty refuses a directory that exists and is not empty, or a file.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot write the project to %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("directory %s is not empty; choose another NAME or empty it", dir)
	}
	return nil
}

// renderedFile is one file of a project.
type renderedFile struct {
	path string // slash-separated, relative to the project
	body []byte
}

// render executes the files of template name with data. Go files come out
// gofmt-ed.
func render(name string, data projectData) ([]renderedFile, error) {
	root, err := fs.Sub(templates.FS, name)
	if err != nil {
		return nil, err
	}
	var files []renderedFile
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		tmpl, err := template.New(p).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, data); err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		segments := strings.Split(strings.TrimSuffix(p, ".tmpl"), "/")
		for i, s := range segments {
			if s == packageSegment {
				segments[i] = data.Package
			}
		}
		out := path.Join(segments...)
		body := buf.Bytes()
		if strings.HasSuffix(out, ".go") {
			if body, err = format.Source(body); err != nil {
				return fmt.Errorf("template %s: %s: %w", name, out, err)
			}
		}
		files = append(files, renderedFile{out, body})
		return nil
	})
	return files, err
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
	f, err := os.Open(filepath.Join(abs, "go.mod"))
	if err != nil {
		return "", "", fmt.Errorf("%s is not a Titan checkout: %w", dir, err)
	}
	defer f.Close()
	var module string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			continue
		}
		switch fields[0] {
		case "module":
			module = strings.Trim(fields[1], `"`)
		case "go":
			goVersion = fields[1]
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", err
	}
	if module != titanModule {
		return "", "", fmt.Errorf("%s is not a Titan checkout: its go.mod is not module %s", dir, titanModule)
	}
	if goVersion == "" {
		goVersion = toolchainGoVersion()
	}
	return abs, goVersion, nil
}
