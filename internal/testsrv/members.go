package testsrv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/titanframework/titan"
)

const (
	memberName = "TITAN_TEST_MEMBER"
	memberSets = "TITAN_TEST_MEMBER_SETS"
)

// Member runs a cluster member when the test binary was started as one by
// StartMembers, and reports whether it did (it then exits when
// interrupted, with status 0 after a graceful stop). Call it first in
// TestMain.
//
// A member serves who@1.0.0 (name idempotent) and calls who@^1 through a
// titan.Remote that names only the service, from 4 callers, logging JSON
// records on standard error: "member ready" once started, then every
// 100 ms "calls" with ok and failed (the calls of those 100 ms), from
// (who answered them, sorted) and error (the first failure's message).
func Member() bool {
	name := os.Getenv(memberName)
	if name == "" {
		return false
	}
	app := whoApp(name, os.Getenv(memberSets), []string{"logger.format=json", "logger.level=info"},
		titan.Remote[WhoClient]("who@^1"), titan.Invoke(callWho))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "stop:", err)
		os.Exit(1)
	}
	return true
}

// callWho calls who@^1 from 4 callers while the app runs and logs what
// happened every 100 ms.
func callWho(lc fx.Lifecycle, c WhoClient, log *slog.Logger) {
	stop, done := make(chan struct{}), make(chan struct{})
	var (
		mu     sync.Mutex
		ok     int
		failed int
		from   = map[string]bool{}
		first  error
	)
	var wg sync.WaitGroup
	call := func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			who, err := c.Name(ctx)
			cancel()
			mu.Lock()
			if err != nil {
				failed++
				first = cmpErr(first, err)
			} else {
				ok++
				from[who] = true
			}
			mu.Unlock()
		}
	}
	report := func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				wg.Wait()
				return
			case <-t.C:
			}
			mu.Lock()
			names := make([]string, 0, len(from))
			for n := range from {
				names = append(names, n)
			}
			slices.Sort(names)
			msg := ""
			if first != nil {
				msg = first.Error()
			}
			log.Info("calls", "ok", ok, "failed", failed, "from", strings.Join(names, ","), "error", msg)
			ok, failed, from, first = 0, 0, map[string]bool{}, nil
			mu.Unlock()
		}
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			log.Info("member ready")
			wg.Add(4)
			for range 4 {
				go call()
			}
			go report()
			return nil
		},
		OnStop: func(context.Context) error {
			close(stop)
			<-done
			return nil
		},
	})
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// StartMembers starts one member process (see Member) per name, each
// configured with sets (its discovery backend), one after the other: each
// is started once the one before it logged "member ready". They are
// killed when the test ends.
func StartMembers(t *testing.T, sets []string, names ...string) []*Program {
	t.Helper()
	var out []*Program
	for _, name := range names {
		p := StartProgramEnv(t, os.Args[0], []string{memberName + "=" + name, memberSets + "=" + strings.Join(sets, "\x1f")}, "-test.run=^$")
		p.Await("member ready")
		out = append(out, p)
	}
	return out
}
