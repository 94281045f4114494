package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// project is a Titan project: a module whose go.mod requires Titan.
type project struct {
	root   string // the directory of its go.mod
	module string // its module path
}

// findProject returns the project that dir is in: the module of the
// nearest go.mod at or above dir, which must require Titan.
func findProject(dir string) (project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return project{}, err
	}
	for d := abs; ; {
		file := filepath.Join(d, "go.mod")
		mod, err := readGoMod(file)
		switch {
		case err == nil && mod.module == titanModule:
			return project{}, fmt.Errorf("%s is Titan itself, not a project that uses it; run titan generate inside a project (titan new makes one)", d)
		case err == nil && !mod.requiresTitan:
			return project{}, fmt.Errorf("%s does not require %s: run titan generate inside a Titan project (titan new makes one)", file, titanModule)
		case err == nil:
			return project{root: d, module: mod.module}, nil
		case !errors.Is(err, fs.ErrNotExist):
			return project{}, err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return project{}, fmt.Errorf("no go.mod in %s or above it: run titan generate inside a Titan project (titan new makes one)", abs)
		}
		d = parent
	}
}

// goMod is what titan reads of a go.mod file.
type goMod struct {
	module        string // the module path
	goVersion     string // the go line's version; "" without one
	requiresTitan bool   // whether a require line or block names Titan
}

// readGoMod reads the go.mod file.
func readGoMod(file string) (goMod, error) {
	var m goMod
	f, err := os.Open(file)
	if err != nil {
		return m, err
	}
	defer f.Close()
	inRequire := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case inRequire && fields[0] == ")":
			inRequire = false
		case inRequire:
			m.requiresTitan = m.requiresTitan || strings.Trim(fields[0], `"`) == titanModule
		case fields[0] == "module" && len(fields) == 2:
			m.module = strings.Trim(fields[1], `"`)
		case fields[0] == "go" && len(fields) == 2:
			m.goVersion = fields[1]
		case fields[0] == "require" && len(fields) == 2 && fields[1] == "(":
			inRequire = true
		case fields[0] == "require" && len(fields) >= 3:
			m.requiresTitan = m.requiresTitan || strings.Trim(fields[1], `"`) == titanModule
		}
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("%s: %w", file, err)
	}
	if m.module == "" {
		return m, fmt.Errorf("%s has no module line", file)
	}
	return m, nil
}
