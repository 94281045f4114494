package titan_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/titanframework/titan/"

// imports returns, for each package folder under root (module-relative),
// the imports of its non-test files.
func imports(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "bench" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if out[dir] == nil {
			out[dir] = map[string]bool{}
		}
		for _, is := range f.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			out[dir][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The layers import one way: protocol <- transport <- netron (the engine)
// <- gateways and modules. Nothing below the engine imports it, and only
// internal/unsafeutil imports unsafe.
func TestLayers(t *testing.T) {
	// The deprecated forwarders keep the gateways' old import paths under
	// transport/ until the next minor release; they are gateways.
	forwarders := map[string]bool{
		"modules/netron/transport/http":          true,
		"modules/netron/transport/nats":          true,
		"modules/netron/transport/nats/embedded": true,
	}
	engine := modulePath + "modules/netron"
	for dir, imps := range imports(t, ".") {
		for p := range imps {
			if p == "unsafe" && dir != "internal/unsafeutil" {
				t.Errorf("%s imports unsafe: only internal/unsafeutil may", dir)
			}
			below := strings.HasPrefix(dir, "modules/netron/transport") && !forwarders[dir] ||
				strings.HasPrefix(dir, "modules/netron/protocol")
			if !below {
				continue
			}
			if p == engine || strings.HasPrefix(p, engine+"/") && !strings.HasPrefix(p, engine+"/transport") && !strings.HasPrefix(p, engine+"/protocol") {
				t.Errorf("%s (below the engine) imports %s", dir, p)
			}
			if strings.HasPrefix(dir, "modules/netron/protocol") && strings.HasPrefix(p, engine+"/transport") {
				t.Errorf("%s (the wire format) imports the transport layer: %s", dir, p)
			}
		}
	}
}
