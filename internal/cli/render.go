package cli

import (
	"bytes"
	"fmt"
	"go/format"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"

	"github.com/titanframework/titan/templates"
)

// packageSegment is the path segment of a template file that becomes the
// package name.
const packageSegment = "_package"

// baseDir holds the files every template has unless it has its own.
const baseDir = "_base"

// renderedFile is one file of a project.
type renderedFile struct {
	path string // slash-separated, relative to the project
	body []byte
}

// templateNames returns the names of the templates of titan new, sorted:
// the directories of templates.FS whose names do not start with "_".
func templateNames() []string {
	entries, err := fs.ReadDir(templates.FS, ".")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), "_") {
			names = append(names, e.Name())
		}
	}
	return names
}

// renderProject executes the files of _base and of template name with
// data, the template's own replacing a _base file of the same path, and
// returns them sorted by path.
func renderProject(name string, data any, pkg string) ([]renderedFile, error) {
	base, err := renderDir(baseDir, data, pkg)
	if err != nil {
		return nil, err
	}
	own, err := renderDir(name, data, pkg)
	if err != nil {
		return nil, err
	}
	files := own
	for _, b := range base {
		if !hasPath(own, b.path) {
			files = append(files, b)
		}
	}
	slices.SortFunc(files, func(a, b renderedFile) int { return strings.Compare(a.path, b.path) })
	return files, nil
}

func hasPath(files []renderedFile, p string) bool {
	for _, f := range files {
		if f.path == p {
			return true
		}
	}
	return false
}

// renderDir executes the files under dir of templates.FS with data; the
// segment "_package" of their paths becomes pkg. Go files come out
// gofmt-ed.
func renderDir(dir string, data any, pkg string) ([]renderedFile, error) {
	root, err := fs.Sub(templates.FS, dir)
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
			return fmt.Errorf("template %s: %w", dir, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, data); err != nil {
			return fmt.Errorf("template %s: %w", dir, err)
		}
		segments := strings.Split(strings.TrimSuffix(p, ".tmpl"), "/")
		for i, s := range segments {
			if s == packageSegment {
				segments[i] = pkg
			}
		}
		out := path.Join(segments...)
		body := buf.Bytes()
		if strings.HasSuffix(out, ".go") {
			if body, err = format.Source(body); err != nil {
				return fmt.Errorf("template %s: %s: %w", dir, out, err)
			}
		}
		files = append(files, renderedFile{out, body})
		return nil
	})
	return files, err
}

// renderAll returns every file titan new and titan generate service
// write (those of each template with _base, and those of
// _generate/service) for a project, module and service named pkg, for
// the checks of the names the files use.
func renderAll(pkg string) ([]renderedFile, error) {
	var files []renderedFile
	for _, name := range templateNames() {
		fs, err := renderProject(name, projectData{Name: pkg, Package: pkg, Module: "example.com/" + pkg, Binary: pkg,
			GoVersion: "1.26", TitanModule: titanModule, TitanVersion: "v1.0.0"}, pkg)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	fs, err := renderDir(generateServiceDir, serviceData{Name: pkg, Package: pkg, Module: "example.com/" + pkg}, pkg)
	if err != nil {
		return nil, err
	}
	return append(files, fs...), nil
}
