package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
)

// Building an app connects to no registry: the registry opens when the
// app starts, within the start context, and a start that fails there
// leaves no connection open and stops cleanly.
func TestRegistryOpensOnStart(t *testing.T) {
	t.Parallel()
	srv := testsrv.StartSilent(t)
	app := titan.New(testsrv.Settings("discovery.backend=redis", "discovery.url=redis://"+srv.Addr()))
	built := time.Now()
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(built); d > 2*time.Second {
		t.Errorf("building the app took %v", d)
	}
	time.Sleep(100 * time.Millisecond)
	if n := srv.Accepted(); n != 0 {
		t.Fatalf("building the app opened %d connection(s) to the registry", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := app.Start(ctx)
	if d := time.Since(began); d > 3500*time.Millisecond {
		t.Errorf("a start whose context expires took %v", d)
	}
	if err == nil {
		t.Fatal("the app started against a registry that never answers")
	}
	for _, want := range []string{`discovery.backend "redis"`, srv.Addr(), "set discovery.required: false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start error %q lacks %q", err, want)
		}
	}
	if srv.Accepted() == 0 {
		t.Error("the start did not try the registry")
	}
	if err := app.Stop(context.Background()); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop after a failed start: %v", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for srv.Open() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.Open(); n > 0 {
		t.Errorf("%d connection(s) to the registry are still open after the failed start", n)
	}
}
