package redis_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/redis"
)

func TestMain(m *testing.M) {
	if testsrv.Child() {
		return
	}
	goleak.VerifyTestMain(m)
}

func redisURL(t *testing.T) string { return testsrv.Redis(t) }

func prefix(t *testing.T, url string) string { return testsrv.RedisPrefix(t, url) }

// rawClient is a client of the Redis at url for what a test writes or
// reads behind the registry's back; it closes with the test.
func rawClient(t *testing.T, url string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := goredis.NewClient(opts)
	t.Cleanup(func() { raw.Close() })
	return raw
}

func open(t *testing.T, url, prefix string, ttl time.Duration, log *slog.Logger) *redis.Registry {
	t.Helper()
	r, err := redis.Open(context.Background(), url, prefix, ttl, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx := context.Background()
	r := open(t, url, prefix(t, url), time.Minute, nil)
	for _, in := range []discovery.Instance{testsrv.Instance("a", "1.0.0"), testsrv.Instance("b", "1.4.0"), testsrv.Instance("c", "2.0.0")} {
		if err := r.Register(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "users", Range: "^1"}); err != nil || testsrv.IDs(got) != "a,b" {
		t.Fatalf("Discover ^1 = %s, %v", testsrv.IDs(got), err)
	}
	if h, err := r.Health(ctx, "b"); err != nil || h != discovery.Healthy {
		t.Fatalf("Health(b) = %v, %v", h, err)
	}
	if err := r.Deregister(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Discover(ctx, discovery.Query{Service: "users"}); testsrv.IDs(got) != "a,c" {
		t.Fatalf("after Deregister(b): %s", testsrv.IDs(got))
	}
	if err := r.Register(ctx, discovery.Instance{ID: "bad", Service: "users"}); err == nil {
		t.Fatal("an invalid instance was registered")
	}
}

// An instance that stops heartbeating leaves within its TTL; Watch says
// so; a malformed entry in the index is skipped and logged.
func TestTTLWatchAndMalformedEntries(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs testsrv.LogBuffer
	p := prefix(t, url)
	r := open(t, url, p, 300*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))

	raw := rawClient(t, url)
	raw.HSet(ctx, p+":discovery:instance:junk", "json", "{not json", "service", "users")
	raw.SAdd(ctx, p+":discovery:service:users", "junk")

	if err := r.Register(ctx, testsrv.Instance("crashed", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	snaps := make(chan string, 10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ins, err := range r.Watch(ctx, discovery.Query{Service: "users"}) {
			if err != nil {
				continue
			}
			snaps <- testsrv.IDs(ins)
		}
	}()
	defer wg.Wait()
	defer cancel()
	// crashed heartbeats until the join is seen, and never after: on a
	// loaded machine its 300ms TTL could otherwise pass before then.
	beat := time.NewTicker(100 * time.Millisecond)
	defer beat.Stop()
	await := func(what, want string, allowed ...string) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case s := <-snaps:
				if s == want {
					return
				}
				if !slices.Contains(allowed, s) {
					t.Fatalf("%s: %q, want %q", what, s, want)
				}
			case <-beat.C:
				if err := r.Register(ctx, testsrv.Instance("crashed", "1.0.0")); err != nil {
					t.Fatal(err)
				}
			case <-deadline:
				t.Fatalf("%s: no snapshot %q in 5s", what, want)
			}
		}
	}
	await("first snapshot", "crashed")
	if err := r.Register(ctx, testsrv.Instance("joined", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	await("after a join", "crashed,joined", "crashed")
	beat.Stop()
	start := time.Now()
	// joined heartbeats; crashed does not.
	for time.Since(start) < 2*time.Second {
		_ = r.Register(ctx, testsrv.Instance("joined", "1.0.0"))
		select {
		case s := <-snaps:
			if s != "joined" {
				t.Fatalf("snapshot %q", s)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("the crashed instance left after %v, want within about its 300ms TTL", d)
			}
			if !strings.Contains(logs.String(), "skipping a registry entry that is not a valid instance") || !strings.Contains(logs.String(), "not an instance") || !strings.Contains(logs.String(), "junk") {
				t.Errorf("the malformed entry was not logged: %s", logs.String())
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("the crashed instance did not leave within 2s")
}

// An entry in a service's index whose key is not a hash (a plain string
// someone else set) is skipped and logged: Discover, Services and Watch
// still give the service's other instances.
func TestEntryOfAnotherTypeIsSkipped(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var logs testsrv.LogBuffer
	p := prefix(t, url)
	r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
	if err := r.Register(ctx, testsrv.Instance("good", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	raw := rawClient(t, url)
	if err := raw.SAdd(ctx, p+":discovery:service:users", "junk").Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.Set(ctx, p+":discovery:instance:junk", "not a hash", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}

	if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "good" {
		t.Errorf("Discover = %q, %v; want good, the string entry skipped", testsrv.IDs(got), err)
	}
	if names, err := r.Services(ctx); err != nil || len(names) != 1 || names[0] != "users" {
		t.Errorf("Services = %v, %v; want [users]", names, err)
	}
	for ins, err := range r.Watch(ctx, discovery.Query{Service: "users"}) {
		if err != nil || testsrv.IDs(ins) != "good" {
			t.Errorf("Watch's first snapshot = %q, %v; want good, the string entry skipped", testsrv.IDs(ins), err)
		}
		break
	}
	if !strings.Contains(logs.String(), "skipping a registry entry that is not a hash") || !strings.Contains(logs.String(), p+":discovery:instance:junk") {
		t.Errorf("the string entry was not logged: %s", logs.String())
	}
	if n, err := raw.SIsMember(ctx, p+":discovery:service:users", "junk").Result(); err != nil || !n {
		t.Errorf("the string entry left the index (%v, %v): only expired entries are tidied", n, err)
	}
}

// An instance registered again under another service (the same id, the
// service renamed) leaves the first service's index: it is listed under
// the new service only, and reading the old one logs nothing.
func TestReRegisterUnderAnotherService(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var logs testsrv.LogBuffer
	p := prefix(t, url)
	r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Service = "accounts"
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	testsrv.CheckMoved(t, ctx, r, in, "users")
	raw := rawClient(t, url)
	if held, err := raw.SIsMember(ctx, p+":discovery:service:users", in.ID).Result(); err != nil || held {
		t.Errorf("the id is still in the old service's index (%v, %v)", held, err)
	}
	if logs.String() != "" {
		t.Errorf("a re-registration was logged as a bad entry: %s", logs.String())
	}
}

// backendSets configure an app's discovery for the Redis at url.
func backendSets(url, p string) []string {
	return []string{"discovery.backend=redis", "discovery.url=" + url, "discovery.prefix=" + p,
		"discovery.heartbeat=100ms", "discovery.ttl=500ms", "discovery.deregisterDelay=50ms"}
}

func appSettings(url, p string, sets ...string) titan.Option {
	return testsrv.Settings(append(backendSets(url, p), sets...)...)
}

// Three instances register in Redis; a client that names only the service
// spreads its calls over all three; one that stops leaves the set.
func TestAppsFindEachOther(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	testsrv.SpreadOver(t, backendSets(url, prefix(t, url)))
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis runs a private redis-server on port, keeping nothing on disk.
func startRedis(t *testing.T, port int) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("redis-server is not installed")
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, _ := goredis.ParseURL(url)
	c := goredis.NewClient(opts)
	defer c.Close()
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i > 100 {
			cmd.Process.Kill()
			t.Fatalf("redis-server on %d did not start", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd
}

// After the Redis server restarts empty, the live instances are back in
// the registry within two heartbeats.
func TestReRegistersAfterRestart(t *testing.T) {
	port := freePort(t)
	srv := startRedis(t, port)
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	testsrv.StartApp(t, appSettings(url, "titan", "netron.listen=tcp://127.0.0.1:0"),
		titan.Service("who", "1.0.0", func() *testsrv.Who { return testsrv.NewWho("a") }))
	r := open(t, url, "titan", time.Second, nil)
	count := func() int {
		ins, _ := r.Discover(context.Background(), discovery.Query{Service: "who"})
		return len(ins)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d instances registered, want 1", n)
	}
	srv.Process.Kill()
	srv.Wait()
	srv = startRedis(t, port)
	defer func() { srv.Process.Kill(); srv.Wait() }()
	start := time.Now()
	for count() != 1 {
		if time.Since(start) > 2*time.Second {
			t.Fatal("the instance was not back within 2s of the restart (heartbeat 100ms)")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("back after %v, want within two heartbeats (200ms) and the client's reconnection", d)
	}
}

// With discovery.required: false an app whose Redis does not answer at
// start-up starts anyway, and registers once Redis is there.
func TestNotRequired(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	err := titan.New(appSettings(url, "titan", "netron.listen=tcp://127.0.0.1:0"),
		titan.Service("who", "1.0.0", func() *testsrv.Who { return testsrv.NewWho("a") })).Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:"+fmt.Sprint(port)) || !strings.Contains(err.Error(), "discovery.required: false") {
		t.Fatalf("an unreachable Redis at start-up: %v", err)
	}
	testsrv.StartApp(t, appSettings(url, "titan", "netron.listen=tcp://127.0.0.1:0", "discovery.required=false"),
		titan.Service("who", "1.0.0", func() *testsrv.Who { return testsrv.NewWho("a") }))
	srv := startRedis(t, port)
	defer func() { srv.Process.Kill(); srv.Wait() }()
	r := open(t, url, "titan", time.Second, nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ins, _ := r.Discover(context.Background(), discovery.Query{Service: "who"}); len(ins) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("not registered 5s after Redis came up")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Three instances run as child processes; one is killed with SIGKILL in
// the middle of the load: no idempotent call fails, and the dead instance
// leaves Discover within its TTL.
func TestKilledInstance(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	p := prefix(t, url)
	names := []string{"a", "b", "c"}
	children := testsrv.StartChildren(t, []string{"discovery.backend=redis", "discovery.url=" + url, "discovery.prefix=" + p,
		"discovery.heartbeat=100ms", "discovery.ttl=500ms"}, names...)
	var c testsrv.WhoClient
	testsrv.StartApp(t, appSettings(url, p), titan.Remote[testsrv.WhoClient]("who@^1"), titan.Invoke(func(x testsrv.WhoClient) { c = x }))
	testsrv.KillUnderLoad(t, c, children, names, open(t, url, p, time.Second, nil), 3*time.Second)
}
