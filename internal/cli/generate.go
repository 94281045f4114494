package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func init() { register("project", newGenerate) }

// generateServiceDir holds the files of titan generate service in
// templates.FS.
const generateServiceDir = "_generate/service"

// serviceData is what the files of titan generate service are executed
// with.
type serviceData struct {
	Name    string // the service name
	Package string // its package name
	Module  string // the project's module path
}

func newGenerate() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate KIND NAME",
		Short: "Add code to a Titan project",
		Long: `Add code to the Titan project of the working directory: the module of
the nearest go.mod at or above it, which must require Titan.`,
		Args: usage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return &usageError{errors.New("say what to generate: titan generate service NAME")}
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "service NAME",
		Short: "Add a service with create, get, update and delete, its test and its registration",
		Long: `Add the service NAME to the project: the package NAME (without its
dashes) holding service.go, a service with create, get, update and
delete of items and a list stream, whose arguments are contracts (struct
types with jsonschema tags), and service_test.go, its tests through
titantest; and in main.go the package's import and the line
titan.Service(pkg.Name, pkg.Version, pkg.New) at the end of the titan.New
call. It prints what it changed.

NAME is lowercase letters, digits and dashes, starting with a letter (a
valid service name that is also a package name). It refuses, writing
nothing, when the package's directory exists already, when main.go
imports a package of that name, and when main.go is not in the shape
titan new writes (it imports Titan and calls titan.New once, listing
its options).

Exit codes: 0 when the service was added, 2 for a bad or taken NAME or a
working directory outside a Titan project, 1 when main.go could not be
changed (nothing is written then either).`,
		Args: usage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error { return runGenerateService(cmd, args[0]) },
	})
	return cmd
}

func runGenerateService(cmd *cobra.Command, name string) error {
	pkg, err := packageName(name)
	if err != nil {
		return &usageError{fmt.Errorf("invalid service name %q: %w", name, err)}
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	proj, err := findProject(wd)
	if err != nil {
		return &usageError{err}
	}
	dir := filepath.Join(proj.root, pkg)
	if _, err := os.Lstat(dir); err == nil {
		return &usageError{fmt.Errorf("service %s exists already: %s/ is there; choose another name", name, shortPath(wd, dir))}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	mainFile := filepath.Join(proj.root, "main.go")
	src, err := os.ReadFile(mainFile)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s has no main.go to register the service in (titan generate service expects the main.go of titan new)", shortPath(wd, proj.root))
	} else if err != nil {
		return err
	}
	importPath := proj.module + "/" + pkg
	registered, line, err := registerService(src, importPath, pkg)
	if err != nil {
		return fmt.Errorf("%s: %w", shortPath(wd, mainFile), err)
	}
	files, err := renderDir(generateServiceDir, serviceData{Name: name, Package: pkg, Module: proj.module}, pkg)
	if err != nil {
		return err
	}
	if err := writeFiles(proj.root, files); err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	if err := replaceFile(mainFile, registered); err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	out := cmd.OutOrStdout()
	for _, f := range files {
		fmt.Fprintf(out, "wrote %s\n", shortPath(wd, filepath.Join(proj.root, f.path)))
	}
	_, err = fmt.Fprintf(out, "changed %s: imports %s and registers %s\n", shortPath(wd, mainFile), importPath, line)
	return err
}

// replaceFile writes body to file through a temporary file renamed over
// it, so that file is never left half written; it keeps file's mode.
func replaceFile(file string, body []byte) error {
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".titan-*.go")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// shortPath returns p relative to dir (the working directory), as the
// user would type it there.
func shortPath(dir, p string) string {
	if rel, err := filepath.Rel(dir, p); err == nil {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}
