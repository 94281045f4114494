package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
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
	files, err := renderAll(pkg)
	if err != nil {
		t.Fatal(err)
	}
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
			if !strings.HasSuffix(p, "/"+pkg) { // NAME's own package, whatever it is imported as
				names = append(names, localName(spec, p))
			}
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

// TestNamesThatBreakTheGeneratedCode: in a generated file that imports
// NAME's package under its own name, a local name (p, ctx, got, app, the
// parameter t, ...) equal to the package name shadows the package, and a
// package named after a predeclared identifier the file uses (len, int,
// string, nil, ...) shadows that identifier: the project's tests or
// main.go no longer compile. packageName must refuse every such name
// (TestReservedNames covers imports and top-level declarations); the
// tests, which declare many locals, import the package under a fixed
// name instead, which none of their locals may take.
func TestNamesThatBreakTheGeneratedCode(t *testing.T) {
	const pkg = "zzdemo"
	files, err := renderAll(pkg)
	if err != nil {
		t.Fatal(err)
	}
	breaks := map[string][]string{} // name -> the files it breaks
	note := func(name, file string) {
		if name != pkg && name != "_" && !slices.Contains(breaks[name], file) {
			breaks[name] = append(breaks[name], file)
		}
	}
	seen := 0
	for _, f := range files {
		if !strings.HasSuffix(f.path, ".go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f.path, f.body, 0) // with object resolution
		if err != nil {
			t.Fatal(err)
		}
		as := "" // the name the file refers to NAME's package by
		for _, spec := range file.Imports {
			if p, _ := strconv.Unquote(spec.Path.Value); strings.HasSuffix(p, "/"+pkg) {
				as = localName(spec, p)
			}
		}
		if as == "" {
			continue
		}
		// Names declared in the file's functions (locals, parameters).
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fd, func(n ast.Node) bool {
				id, ok := n.(*ast.Ident)
				if !ok || id.Obj == nil || id.Obj.Kind == ast.Lbl || id.Obj.Kind == ast.Fun || id.Obj.Pos() != id.Pos() {
					return true
				}
				seen++
				switch {
				case as == pkg:
					note(id.Name, f.path)
				case id.Name == as:
					t.Errorf("%s imports the package of NAME as %s, and declares %s in %s", f.path, as, as, fd.Name.Name)
				}
				return true
			})
		}
		// Predeclared identifiers the file uses.
		for _, id := range file.Unresolved {
			if types.Universe.Lookup(id.Name) != nil && as == pkg {
				seen++
				note(id.Name, f.path)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("looked at %d names only", seen)
	}
	var names []string
	for n := range breaks {
		if _, err := packageName(n); err == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		t.Errorf("packageName accepts %q, a name the generated %s use(s): `titan new %s` writes a project whose code may not compile", n, strings.Join(breaks[n], ", "), n)
	}
}
