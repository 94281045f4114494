package redis

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/titanframework/titan/internal/testsrv"
)

// roundTrips counts the client's round trips to Redis: each command sent
// alone, and each pipeline.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// Services reads the list of services, their indexes and their entries
// in one round trip whatever the number of services, rather than two or
// more per service; tidying what it found expired takes one more.
func TestServicesTakesOneRoundTrip(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := testsrv.RedisPrefix(t, url)
	r, err := Open(ctx, url, p, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var want []string
	for i := range 10 {
		in := testsrv.Instance(fmt.Sprintf("app1/s%d@1.0.0", i), "1.0.0")
		in.Service = fmt.Sprintf("s%d", i)
		for _, id := range []string{in.ID, in.ID + "b"} {
			in.ID = id
			if err := r.Register(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, in.Service)
	}
	slices.Sort(want)
	for _, s := range []*goredis.Script{servicesScript, tidyServicesScript} { // loaded, as after a first call
		if err := s.Load(ctx, r.c).Err(); err != nil {
			t.Fatal(err)
		}
	}
	h := &roundTrips{}
	r.c.AddHook(h)
	names, err := r.Services(ctx)
	if err != nil || !slices.Equal(names, want) {
		t.Fatalf("Services = %v, %v; want %v", names, err, want)
	}
	if n := h.n.Load(); n != 1 {
		t.Errorf("Services of %d services took %d round trips to Redis; want 1", len(want), n)
	}

	// s0's instances expire: it leaves the list, in one more round trip.
	for _, id := range []string{"app1/s0@1.0.0", "app1/s0@1.0.0b"} {
		if err := r.c.Del(ctx, r.instanceKey(id)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	h.n.Store(0)
	if names, err = r.Services(ctx); err != nil || !slices.Equal(names, want[1:]) {
		t.Fatalf("Services after s0's instances expired = %v, %v; want %v", names, err, want[1:])
	}
	if n := h.n.Load(); n > 2 {
		t.Errorf("Services that tidies an expired service took %d round trips to Redis; want 2 at most", n)
	}
	if listed, err := r.c.SIsMember(ctx, r.servicesKey(), "s0").Result(); err != nil || listed {
		t.Errorf("s0 listed after Services found its instances expired: %v, %v", listed, err)
	}
	if n, err := r.c.SCard(ctx, r.indexKey("s0")).Result(); err != nil || n != 0 {
		t.Errorf("the index of s0 holds %d ids after Services found them expired, %v; want none", n, err)
	}
}
