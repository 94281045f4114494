package netron_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// When the instances change, round-robin goes on from the instance it
// picked last: the one after it that is still there comes next (or a
// newcomer), so that none is skipped and none called twice in a row,
// whatever the count of calls before the change.
func TestPoolRoundRobinGoesOnAcrossChanges(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addrs := serveEach(t, "named", func(name string) any { return Instance{name} }, "a", "b", "c", "d")
	name := map[string]string{addrs[0]: "a", addrs[1]: "b", addrs[2]: "c", addrs[3]: "d"}
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	for _, tc := range []struct {
		name          string
		before, after []string
	}{
		{"c leaves", addrs[:3], addrs[:2]},
		{"b leaves", addrs[:3], []string{addrs[0], addrs[2]}},
		{"c comes", addrs[:2], addrs[:3]},
		{"d comes, a leaves", addrs[:3], addrs[1:4]},
	} {
		for calls := range 5 {
			t.Run(fmt.Sprintf("%s after %d calls", tc.name, calls), func(t *testing.T) {
				w := watchOf{first: tc.before, changes: make(chan []string, 1)}
				pool := startPool(t, client, "named@^1", w, netron.WithBalancer(netron.RoundRobin))
				var c struct {
					Who func(ctx context.Context) (string, error)
				}
				if err := pool.Bind(&c); err != nil {
					t.Fatal(err)
				}
				var seq []string
				call := func() {
					t.Helper()
					who, err := c.Who(ctx)
					if err != nil {
						t.Fatal(err)
					}
					seq = append(seq, who)
				}
				for range calls + 1 {
					call()
				}
				w.changes <- tc.after
				for !slices.Equal(pool.Addrs(), tc.after) {
					if ctx.Err() != nil {
						t.Fatalf("Addrs = %v, want %v", pool.Addrs(), tc.after)
					}
					time.Sleep(5 * time.Millisecond)
				}
				// The one to come next: the first after the last picked, in
				// the order before the change, that is still there; or a
				// newcomer, whose place in the turn is the pool's choice.
				var order []string
				for _, a := range tc.before {
					order = append(order, name[a])
				}
				now, newcomer := map[string]bool{}, map[string]bool{}
				for _, a := range tc.after {
					now[name[a]] = true
					newcomer[name[a]] = !slices.Contains(tc.before, a)
				}
				last := seq[len(seq)-1]
				i := slices.Index(order, last)
				want := ""
				for k := 1; k <= len(order); k++ {
					if n := order[(i+k)%len(order)]; now[n] {
						want = n
						break
					}
				}
				call()
				var after []string
				for _, a := range tc.after {
					after = append(after, name[a])
				}
				if got := seq[len(seq)-1]; got != want && !newcomer[got] {
					t.Errorf("calls %v: after the change to %v the call went to %s, want %s, the one after %s (or a newcomer)", seq, after, got, want, last)
				}
			})
		}
	}
}
