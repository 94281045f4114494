package config_test

import (
	"testing"
	"time"

	"github.com/titanframework/titan/modules/config"
)

// A watcher may remove itself when it is called (a one-shot watcher): the
// reload does not deadlock.
func TestWatcherMayCancelItself(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "app.yaml", "net:\n  mode: safe\n")
	c := load(t, config.Options{Files: []string{file}})
	var cancel func()
	cancel = c.Watch("net", func(*config.Config) { cancel() })
	write(t, dir, "app.yaml", "net:\n  mode: fast\n")
	done := make(chan error, 1)
	go func() { done <- c.Reload() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Reload deadlocked: the watcher's cancel waits for the lock Reload holds while calling it")
	}
}
