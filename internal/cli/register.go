package cli

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// edit replaces the bytes [start, end) of a source with text.
type edit struct {
	start, end int
	text       string
}

// registerService returns main.go (src) with the service of package pkg
// (import path importPath) registered in its titan.New call: the import
// added, and "titan.Service(pkg.Name, pkg.Version, pkg.New)" as the
// call's last argument. The file must import Titan under a name (titan
// by default) and call New of it exactly once, with its options listed
// (not opts...); pkg must not name an import already. The result is
// gofmt-ed. It also returns the line added, as printed.
func registerService(src []byte, importPath, pkg string) ([]byte, string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, "", fmt.Errorf("main.go does not parse: %w", err)
	}
	titanName, err := importName(f, titanModule)
	if err != nil {
		return nil, "", err
	}
	for _, spec := range f.Imports {
		p, _ := strconv.Unquote(spec.Path.Value)
		if p == importPath {
			return nil, "", fmt.Errorf("main.go imports %s already", importPath)
		}
		if name := localName(spec, p); name == pkg {
			return nil, "", fmt.Errorf("main.go imports %s as %s already, the name the new package would take; choose another service name", p, pkg)
		}
	}
	var calls []*ast.CallExpr
	ast.Inspect(f, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "New" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == titanName {
					calls = append(calls, call)
				}
			}
		}
		return true
	})
	switch {
	case len(calls) == 0:
		return nil, "", fmt.Errorf("main.go has no %s.New( call to register the service in", titanName)
	case len(calls) > 1:
		return nil, "", fmt.Errorf("main.go calls %s.New %d times; register the service by hand in the one the app runs", titanName, len(calls))
	case calls[0].Ellipsis.IsValid():
		return nil, "", fmt.Errorf("main.go passes a list to %s.New (...); add the service to that list by hand", titanName)
	}
	call := calls[0]
	line := fmt.Sprintf("%s.Service(%s.Name, %s.Version, %s.New)", titanName, pkg, pkg, pkg)

	off := func(p token.Pos) int { return fset.Position(p).Offset }
	var edits []edit
	rparen := off(call.Rparen)
	switch {
	case len(call.Args) == 0:
		edits = append(edits, edit{rparen, rparen, line})
	case fset.Position(call.Args[len(call.Args)-1].End()).Line < fset.Position(call.Rparen).Line:
		// The options on their own lines, so the last one ends with a
		// comma (Go wants it there), and the closing parenthesis on a
		// line of its own: the new line goes before it.
		lineStart := bytes.LastIndexByte(src[:rparen], '\n') + 1
		if len(bytes.TrimSpace(src[lineStart:rparen])) > 0 {
			return nil, "", fmt.Errorf("main.go: the closing parenthesis of %s.New( shares its line with other code; put it on a line of its own", titanName)
		}
		edits = append(edits, edit{lineStart, lineStart, line + ",\n"})
	default:
		end := off(call.Args[len(call.Args)-1].End())
		edits = append(edits, edit{end, end, ", " + line})
	}
	edits = append(edits, importEdit(f, fset, src, importPath))

	slices.SortFunc(edits, func(a, b edit) int { return b.start - a.start })
	out := slices.Clone(src)
	for _, e := range edits {
		out = slices.Concat(out[:e.start], []byte(e.text), out[e.end:])
	}
	formatted, err := format.Source(out)
	if err != nil {
		return nil, "", fmt.Errorf("main.go: registering the service would not give valid Go (%v); add %s to %s.New by hand", err, line, titanName)
	}
	return formatted, line, nil
}

// importName returns the name that file f imports path under; it is an
// error when f does not import it, or imports it as _ or with a dot.
func importName(f *ast.File, path string) (string, error) {
	for _, spec := range f.Imports {
		if p, _ := strconv.Unquote(spec.Path.Value); p == path {
			name := localName(spec, p)
			if name == "_" || name == "." {
				return "", fmt.Errorf("main.go imports %s as %s; import it by name to register services", path, name)
			}
			return name, nil
		}
	}
	return "", fmt.Errorf("main.go does not import %s, so it is not the main.go of a Titan app", path)
}

// localName is the name an import spec brings into the file: its own
// name, or the name of the package, assumed from its path as goimports
// assumes it: the last element, or the one before a major version
// (example.com/x/v2 is x), without a go- prefix and cut at the first
// character that cannot be in a name (gopkg.in/yaml.v3 is yaml). Titan's
// packages are named after their last element.
func localName(spec *ast.ImportSpec, path string) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	slash := strings.LastIndexByte(path, '/')
	base := path[slash+1:]
	if slash > 0 && len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		dir := path[:slash]
		base = dir[strings.LastIndexByte(dir, '/')+1:]
	}
	base = strings.TrimPrefix(base, "go-")
	if i := strings.IndexFunc(base, func(r rune) bool {
		return !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r >= utf8.RuneSelf)
	}); i >= 0 {
		base = base[:i]
	}
	return base
}

// importEdit adds path to the imports of f: as the last line of the
// last parenthesised import declaration (the project's own group in a
// file made by titan new), or as a declaration of its own after the last
// import declaration.
func importEdit(f *ast.File, fset *token.FileSet, src []byte, path string) edit {
	var last *ast.GenDecl
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			last = g
		}
	}
	quoted := strconv.Quote(path)
	if last.Lparen.IsValid() {
		at := fset.Position(last.Rparen).Offset
		text := "\t" + quoted + "\n"
		if at > 0 && src[at-1] != '\n' {
			text = "\n" + text
		}
		return edit{at, at, text}
	}
	at := fset.Position(last.End()).Offset
	return edit{at, at, "\n\nimport " + quoted}
}
