package redis

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/security/ratelimit"
)

// TestScriptAgreesWithLocal runs window.lua, its clock replaced by the
// test's, and ratelimit.Local, on the same clock, on the same random
// traffic, and checks that every decision is the same.
func TestScriptAgreesWithLocal(t *testing.T) {
	t.Parallel()
	const clock = "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	if !strings.Contains(windowLua, clock) {
		t.Fatal("window.lua no longer reads the clock as this test expects; update the test")
	}
	script := goredis.NewScript(strings.Replace(windowLua, clock, "local now = tonumber(ARGV[4])\n", 1))

	url := testsrv.Redis(t)
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	prefix := testsrv.RedisPrefix(t, url)
	ctx := context.Background()

	var now int64 // Unix milliseconds, the clock of both
	local := ratelimit.NewLocal(ratelimit.LocalOptions{Now: func() time.Time { return time.UnixMilli(now) }})
	r := rand.New(rand.NewPCG(3, 4))
	var allowedCalls, refusedCalls int
	for round := range 40 {
		key := strconv.Itoa(round)
		now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli() + r.Int64N(1e6)
		n := 1 + r.IntN(50)
		per := 1 + r.Int64N(120_000)
		for step := range 200 {
			switch r.IntN(20) {
			case 0: // a long pause
				now += r.Int64N(3 * per)
			case 1: // the limit changes
				n, per = 1+r.IntN(50), 1+r.Int64N(120_000)
			default:
				now += r.Int64N(per/max(int64(n), 1) + 1)
			}
			want, err := local.Allow(ctx, key, n, time.Duration(per)*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if want.Allowed {
				allowedCalls++
			} else {
				refusedCalls++
			}
			res, err := script.Run(ctx, c, []string{prefix + ":rl:" + key}, strconv.Itoa(n), strconv.FormatInt(per, 10),
				strconv.FormatInt(2*per, 10), strconv.FormatInt(now, 10)).Int64Slice()
			if err != nil {
				t.Fatal(err)
			}
			// The script's own answer is {1, remaining, 0} or {0, 0, wait
			// >= 1}, which ratelimit.NewDecision carries over unchanged.
			if ok := len(res) == 3 && (res[0] == 1 && res[2] == 0 || res[0] == 0 && res[1] == 0 && res[2] >= 1); !ok {
				t.Fatalf("round %d step %d (%d per %dms, at %d): script says %v, not {1, remaining, 0} or {0, 0, wait >= 1}", round, step, n, per, now, res)
			}
			if got := ratelimit.NewDecision(res[0] == 1, res[1], res[2]); got != want {
				t.Fatalf("round %d step %d (%d per %dms, at %d): script says %v (%+v), Local %+v", round, step, n, per, now, res, got, want)
			}
		}
	}
	if allowedCalls < 1000 || refusedCalls < 1000 {
		t.Fatalf("the traffic had %d allowed and %d refused calls; want both common", allowedCalls, refusedCalls)
	}
	t.Logf("%d allowed and %d refused calls decided alike", allowedCalls, refusedCalls)
}

func TestScriptStoresWholeMilliseconds(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	prefix := testsrv.RedisPrefix(t, url)
	before := time.Now().UnixMilli()
	if _, err := New(c, prefix).Allow(context.Background(), "k", 3, time.Hour); err != nil {
		t.Fatal(err)
	}
	h, err := c.HGetAll(context.Background(), prefix+":rl:k").Result()
	if err != nil {
		t.Fatal(err)
	}
	start, err := strconv.ParseInt(h["start"], 10, 64)
	if err != nil || start < before-5000 || start > time.Now().UnixMilli()+5000 {
		t.Fatalf("start %q (%v), want Unix milliseconds near %d", h["start"], err, before)
	}
	if h["per"] != "3600000" || h["cur"] != "1" || h["prev"] != "0" {
		t.Fatalf("stored %v, want per 3600000, cur 1, prev 0", h)
	}
}
