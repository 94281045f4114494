package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteProjectLeavesNothingOnFailure: when writing a file fails,
// writeProject removes what it wrote: the directory it created, or the
// files and directories it wrote into an empty one that was there.
func TestWriteProjectLeavesNothingOnFailure(t *testing.T) {
	files := []renderedFile{
		{"a.txt", []byte("a")},
		{"pkg/b.go", []byte("package pkg")},
		{"a.txt/c", []byte("c")}, // a.txt is a file: this one cannot be written
	}
	t.Run("created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "demo")
		if err := writeProject(dir, files, true); err == nil {
			t.Fatal("no error")
		}
		if _, err := os.Lstat(dir); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", dir, err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		dir := t.TempDir()
		if err := writeProject(dir, files, false); err == nil {
			t.Fatal("no error")
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("the directory is gone: %v", err)
		}
		for _, e := range entries {
			t.Errorf("%s holds %s", dir, e.Name())
		}
	})
}
