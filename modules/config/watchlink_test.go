package config_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/config"
)

// A file read through a symbolic link is reloaded when the link's target
// changes, as Kubernetes updates a mounted ConfigMap: titan.yaml links to
// ..data/titan.yaml, and an update swaps the ..data link to a new
// directory by a rename; titan.yaml itself is never written.
func TestHotReloadThroughSwappedSymlink(t *testing.T) {
	dir := t.TempDir()
	v1, v2 := filepath.Join(dir, "..v1"), filepath.Join(dir, "..v2")
	for _, d := range []string{v1, v2} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, v1, "titan.yaml", "net:\n  mode: safe\n")
	write(t, v2, "titan.yaml", "net:\n  mode: fast\n")
	if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	file := filepath.Join(dir, "titan.yaml")
	if err := os.Symlink(filepath.Join("..data", "titan.yaml"), file); err != nil {
		t.Fatal(err)
	}
	c := load(t, config.Options{Files: []string{file}})
	changed := make(chan string, 10)
	defer config.OnChange(c, "net", func(n NetConfig) { changed <- n.Mode })()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())

	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink("..v2", tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	select {
	case mode := <-changed:
		if mode != "fast" {
			t.Fatalf("mode after the swap = %s, want fast", mode)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the change made by swapping the link was not reloaded")
	}
}
