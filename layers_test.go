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

// The layers import one way: protocol (and the compression envelopes,
// internal/compress) <- transport <- session (the
// connection engine) <- netron (services, contracts, clients) <- gateways
// and modules. Nothing imports a layer above its own, nothing below the
// engine imports it, and only internal/unsafeutil imports unsafe.
func TestLayers(t *testing.T) {
	t.Parallel()
	// The deprecated forwarders keep the gateways' old import paths under
	// transport/ until the next minor release; they are gateways.
	forwarders := map[string]bool{
		"modules/netron/transport/http":          true,
		"modules/netron/transport/nats":          true,
		"modules/netron/transport/nats/embedded": true,
	}
	const (
		wire = iota
		transports
		connections
		engine
		above
	)
	names := []string{"protocol", "transport", "session", "the engine", "gateways and modules"}
	// layer returns the layer of a module-relative package folder; ok is
	// false for a folder outside the layering (the CLI, the root package).
	layer := func(dir string) (int, bool) {
		switch {
		case strings.HasPrefix(dir, "modules/netron/protocol"),
			dir == "modules/netron/internal/compress": // message envelopes: wire format
			return wire, true
		case forwarders[dir]:
			return above, true
		case strings.HasPrefix(dir, "modules/netron/transport"):
			return transports, true
		case strings.HasPrefix(dir, "modules/netron/internal/session"):
			return connections, true
		case dir == "modules/netron" || strings.HasPrefix(dir, "modules/netron/internal"):
			return engine, true
		case strings.HasPrefix(dir, "modules/netron/"):
			return above, true
		}
		return 0, false
	}
	seen := map[int]bool{}
	for dir, imps := range imports(t, ".") {
		from, layered := layer(dir)
		seen[from] = seen[from] || layered
		for p := range imps {
			if p == "unsafe" && dir != "internal/unsafeutil" {
				t.Errorf("%s imports unsafe: only internal/unsafeutil may", dir)
			}
			rel, ok := strings.CutPrefix(p, modulePath)
			if !ok || !layered {
				continue
			}
			if to, ok := layer(rel); ok && to > from {
				t.Errorf("%s (%s) imports %s (%s, a layer above it)", dir, names[from], p, names[to])
			}
		}
	}
	for l, name := range names {
		if !seen[l] {
			t.Errorf("no package in the layer %s: the test's layout is out of date", name)
		}
	}
}
