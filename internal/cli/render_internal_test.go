package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestReservedNames: every name a generated Go file imports or declares
// at its top level that NAME's package could take (lowercase letters and
// digits) is in reservedNames, so that packageName refuses it.
func TestReservedNames(t *testing.T) {
	lower := regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	const pkg = "zzdemo"
	var files []renderedFile
	for _, name := range templateNames() {
		fs, err := renderProject(name, projectData{Name: pkg, Package: pkg, Module: "example.com/" + pkg, Binary: pkg,
			GoVersion: "1.26", TitanModule: titanModule, TitanVersion: "v1.0.0"}, pkg)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	fs, err := renderDir(generateServiceDir, serviceData{Name: pkg, Package: pkg, Module: "example.com/" + pkg}, pkg)
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, fs...)
	seen := 0
	for _, f := range files {
		if !strings.HasSuffix(f.path, ".go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f.path, f.body, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
		var names []string
		for _, spec := range file.Imports {
			p, _ := strconv.Unquote(spec.Path.Value)
			names = append(names, localName(spec, p))
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					names = append(names, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						names = append(names, s.Name.Name)
					case *ast.ValueSpec:
						for _, n := range s.Names {
							names = append(names, n.Name)
						}
					}
				}
			}
		}
		for _, n := range names {
			seen++
			if n != pkg && n != "_" && lower.MatchString(n) && !slices.Contains(reservedNames, n) {
				t.Errorf("%s uses the name %q, which is not in reservedNames: a project or service of that name would not compile", f.path, n)
			}
		}
	}
	if seen < 50 {
		t.Fatalf("looked at %d names only", seen)
	}
}
