package cli

import (
	"errors"
	"fmt"
	"go/build"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/module"
)

// reservedModulePaths are the module paths the go command refuses as a
// whole: its package patterns (go help packages) and the paths it keeps
// for Go toolchains.
var reservedModulePaths = []string{"all", "cmd", "go", "std", "tool", "toolchain"}

// checkModulePath reports why p cannot be the module path of a project,
// after the rules of the go command: slash-separated elements of ASCII
// letters, digits and "-._~", none empty, none starting or ending with a
// dot, the first one lowercase and not starting with a dash; no element
// that Windows reserves (con, aux, nul, com1, ...) or that ends with a
// tilde and digits (module.CheckImportPath, as go mod init checks); not
// one of [reservedModulePaths], nor the path of a package of the standard
// library; and no /v0 or /v1 at the end (a major version suffix is /v2 or
// above). Its error gives the reason alone, without p.
func checkModulePath(p string) error {
	if p == "" {
		return errors.New("it is empty")
	}
	if !utf8.ValidString(p) {
		return errors.New("it is not valid UTF-8")
	}
	elems := strings.Split(p, "/")
	for i, e := range elems {
		switch {
		case e == "":
			return errors.New("it has an empty element (a leading, trailing or double slash)")
		case e[0] == '.' || e[len(e)-1] == '.':
			return fmt.Errorf("element %q starts or ends with a dot", e)
		}
		for _, r := range e {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)) {
				return fmt.Errorf("element %q holds %q; use letters, digits and - . _ ~", e, r)
			}
		}
		if i == 0 {
			if e[0] == '-' {
				return errors.New("it starts with a dash")
			}
			if strings.ToLower(e) != e {
				return fmt.Errorf("its first element %q has upper-case letters", e)
			}
		}
	}
	if err := module.CheckImportPath(p); err != nil {
		var pe *module.InvalidPathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("the go command refuses it: %v", err)
	}
	if slices.Contains(reservedModulePaths, p) {
		return fmt.Errorf("the go command reserves %q (go help packages)", p)
	}
	if _, _, ok := module.SplitPathVersion(p); !ok {
		if strings.HasPrefix(p, "gopkg.in/") {
			return errors.New("a gopkg.in path ends with its major version (.v1, .v2, ...)")
		}
		return errors.New("a major version suffix starts at /v2, without leading zeros")
	}
	if inStd(p) {
		return fmt.Errorf("%q is a package of the standard library", p)
	}
	return nil
}

// inStd reports whether p is the import path of a package of the
// standard library of the Go that built titan: a directory of
// GOROOT/src holding Go files. A module of that path, whose root is the
// project's main package, is ambiguous to the go command. It reports
// false when p's first element has a dot (no standard package's has) or
// GOROOT is unknown.
func inStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	if strings.Contains(first, ".") || build.Default.GOROOT == "" {
		return false
	}
	entries, err := os.ReadDir(filepath.Join(build.Default.GOROOT, "src", filepath.FromSlash(p)))
	if err != nil {
		return false
	}
	return slices.ContainsFunc(entries, func(e os.DirEntry) bool {
		return !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go")
	})
}

// binaryName returns the name go build gives the command whose package
// is the root of the module at modPath: its last element, or the one
// before a major version suffix (example.com/demo/v2 builds demo).
func binaryName(modPath string) string {
	if prefix, major, ok := module.SplitPathVersion(modPath); ok && strings.HasPrefix(major, "/") {
		return path.Base(prefix)
	}
	return path.Base(modPath)
}
