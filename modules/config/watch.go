package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadDelay gathers the several events one save produces into one reload.
const reloadDelay = 100 * time.Millisecond

// watchFiles watches the directories holding files (so editors that replace
// a file by rename are seen) and calls c.Reload after changes to them. A
// file that is a symbolic link is also watched where it leads, and is
// reloaded when the link is made to lead elsewhere (as Kubernetes updates
// a mounted ConfigMap: by swapping a link to a directory, in the directory
// of the file, without writing the file).
func watchFiles(files []string, c *Config) (stop chan struct{}, done chan struct{}, err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, nil, fmt.Errorf("config: watch: %w", err)
	}
	var dirs []string
	watchDir := func(d string) error {
		if slices.Contains(dirs, d) {
			return nil
		}
		if err := w.Add(d); err != nil {
			return fmt.Errorf("config: watch %q: %w", d, err)
		}
		dirs = append(dirs, d)
		return nil
	}
	targets := resolveLinks(files, files)
	for i, f := range files {
		for _, d := range []string{filepath.Dir(f), filepath.Dir(targets[i])} {
			if err := watchDir(d); err != nil {
				w.Close()
				return nil, nil, err
			}
		}
	}
	stop, done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer w.Close()
		timer := time.NewTimer(time.Hour)
		timer.Stop()
		defer timer.Stop()
		for {
			select {
			case <-stop:
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) == 0 {
					continue
				}
				name := filepath.Clean(ev.Name)
				changed := ev.Op&fsnotify.Remove == 0 && (slices.Contains(files, name) || slices.Contains(targets, name))
				if now := resolveLinks(files, targets); !slices.Equal(now, targets) {
					targets, changed = now, true
					for _, t := range targets {
						_ = watchDir(filepath.Dir(t)) // best effort: the file's own directory is watched
					}
				}
				if changed {
					timer.Reset(reloadDelay)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				c.log.Load().Warn("config: file watcher", "error", err)
			case <-timer.C:
				_ = c.Reload() // Reload logs its own failures.
			}
		}
	}()
	return stop, done, nil
}

// resolveLinks returns where each of files leads through symbolic links;
// where a file cannot be resolved (it is being replaced), what prev says.
func resolveLinks(files, prev []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = prev[i]
		if r, err := filepath.EvalSymlinks(f); err == nil {
			if a, err := filepath.Abs(r); err == nil {
				out[i] = a
			}
		}
	}
	return out
}
