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
// a file by rename are seen) and calls c.Reload after changes to them.
func watchFiles(files []string, c *Config) (stop chan struct{}, done chan struct{}, err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, nil, fmt.Errorf("config: watch: %w", err)
	}
	var dirs []string
	for _, f := range files {
		if d := filepath.Dir(f); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
			if err := w.Add(d); err != nil {
				w.Close()
				return nil, nil, fmt.Errorf("config: watch %q: %w", d, err)
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
				if slices.Contains(files, filepath.Clean(ev.Name)) && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0 {
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
