package titan_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/titanframework/titan"
)

// TestStopDuringStart: a Stop while Start runs (a signal during a slow
// start-up) ends the start, stops the hooks that had started, and the
// hooks after the slow one never start; Start says why it failed.
func TestStopDuringStart(t *testing.T) {
	t.Parallel()
	ev := &events{}
	inSlow := make(chan struct{})
	app := titan.New(
		titan.WithConfig(quiet()),
		titan.Supply(ev),
		titan.Provide(
			func(lc fx.Lifecycle, ev *events) *C { hooks(lc, ev, "C"); return &C{} },
			func(lc fx.Lifecycle, ev *events, _ *C) *B {
				lc.Append(fx.Hook{
					OnStart: func(ctx context.Context) error {
						ev.add("start B")
						close(inSlow)
						<-ctx.Done() // a start-up that waits for something slow
						return ctx.Err()
					},
					OnStop: func(context.Context) error { ev.add("stop B"); return nil },
				})
				return &B{}
			},
			func(lc fx.Lifecycle, ev *events, _ *B) *A { hooks(lc, ev, "A"); return &A{} },
		),
		titan.Invoke(func(*A) {}),
		titan.StartTimeout(time.Minute),
	)
	started := make(chan error, 1)
	go func() { started <- app.Start(context.Background()) }()
	<-inSlow
	if err := app.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case err := <-started:
		if err == nil || !strings.Contains(err.Error(), "stopped before it finished starting") {
			t.Fatalf("Start: %v, want it ended by the Stop", err)
		}
	default:
		t.Fatal("Stop returned before the Start it ended")
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	got := strings.Join(ev.log, ", ")
	if got != "start C, start B, stop C" {
		t.Fatalf("hooks ran: %s; want start C, start B, stop C (A never started, B failed to)", got)
	}
}

// TestStopBeforeBuildEndsTheStart: a Stop that comes while Start is still
// building the app (its constructors run) is not lost: the start is
// refused once the app is built, and nothing starts.
func TestStopBeforeBuildEndsTheStart(t *testing.T) {
	t.Parallel()
	ev := &events{}
	inCtor := make(chan struct{})
	release := make(chan struct{})
	app := titan.New(
		titan.WithConfig(quiet()),
		titan.Supply(ev),
		titan.Provide(func(lc fx.Lifecycle, ev *events) *C {
			close(inCtor)
			<-release // a constructor that takes its time
			hooks(lc, ev, "C")
			return &C{}
		}),
		titan.Invoke(func(*C) {}),
	)
	started := make(chan error, 1)
	go func() { started <- app.Start(context.Background()) }()
	<-inCtor
	stopped := make(chan error, 1)
	go func() { stopped <- app.Stop(context.Background()) }()
	// Stop waits for the start under way; let the constructor finish
	// once it has (most likely) begun to.
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	startErr := <-started
	ev.mu.Lock()
	defer ev.mu.Unlock()
	got := strings.Join(ev.log, ", ")
	switch {
	case startErr != nil && strings.Contains(startErr.Error(), "stopped before it finished starting") && got == "":
	case startErr == nil && got == "start C, stop C":
		// Stop's goroutine ran only after the app had started (a
		// loaded machine): it stopped it.
	default:
		t.Fatalf("Start: %v, hooks ran: %q; want the start refused and no hook run, or the app started and stopped", startErr, got)
	}
}

// TestStartTimeoutStopsWhatStarted: a start that outlasts the start
// timeout stops the hooks that had started before Start returns (fx
// alone runs none of them when its start context has ended).
func TestStartTimeoutStopsWhatStarted(t *testing.T) {
	t.Parallel()
	ev := &events{}
	app := titan.New(
		titan.WithConfig(quiet()),
		titan.Supply(ev),
		titan.Provide(
			func(lc fx.Lifecycle, ev *events) *C { hooks(lc, ev, "C"); return &C{} },
			func(lc fx.Lifecycle, ev *events, _ *C) *B {
				lc.Append(fx.Hook{OnStart: func(ctx context.Context) error {
					ev.add("start B")
					<-ctx.Done()
					return ctx.Err()
				}})
				return &B{}
			},
		),
		titan.Invoke(func(*B) {}),
		titan.StartTimeout(100*time.Millisecond),
	)
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("Start: %v, want the start timeout", err)
	}
	ev.mu.Lock()
	got := strings.Join(ev.log, ", ")
	ev.mu.Unlock()
	if got != "start C, start B, stop C" {
		t.Fatalf("hooks ran: %s; want start C, start B, stop C", got)
	}
	if err := app.Stop(context.Background()); err != nil {
		t.Fatalf("Stop after a failed start: %v", err)
	}
}
