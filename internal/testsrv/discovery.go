package testsrv

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/discovery"
)

// NewWho returns the Who of an instance named name.
func NewWho(name string) *Who { return &Who{name: name} }

// Instance is an instance of users@version with the id, for registry
// tests.
func Instance(id, version string) discovery.Instance {
	return discovery.Instance{ID: id, Service: "users", Version: version, Addrs: []string{"tcp://10.0.0.1:7070"}, Health: discovery.Healthy}
}

// IDs lists the instances' ids, comma-separated.
func IDs(ins []discovery.Instance) string {
	s := make([]string, len(ins))
	for i, in := range ins {
		s[i] = in.ID
	}
	return strings.Join(s, ",")
}

// Settings is the configuration of a test app: sets, quiet logs, no files
// (not the titan.yaml of the working directory either) or environment.
func Settings(sets ...string) titan.Option {
	return titan.WithConfig(config.Options{Sets: append(sets, "logger.level=error"), Environ: []string{}, NoDefaultFile: true, NoWatch: true})
}

// StartApp starts an app and stops it when the test ends.
func StartApp(t *testing.T, opts ...titan.Option) *titan.App {
	t.Helper()
	app := titan.New(opts...)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	return app
}

// SpreadOver runs the scenario every discovery backend passes: three
// instances of who@1.0.0 configured with sets register; a client that
// names only the service spreads 3,000 calls over all three (each gets at
// least 20 %); the first stops and leaves the set within 5 s.
func SpreadOver(t *testing.T, sets []string) {
	t.Helper()
	var apps []*titan.App
	for _, name := range []string{"a", "b", "c"} {
		apps = append(apps, StartApp(t, Settings(append(sets, "netron.listen=tcp://127.0.0.1:0")...),
			titan.Service("who", "1.0.0", func() *Who { return NewWho(name) })))
	}
	var c WhoClient
	StartApp(t, Settings(sets...), titan.Remote[WhoClient]("who@^1"), titan.Invoke(func(x WhoClient) { c = x }))
	counts := map[string]int{}
	for range 3000 {
		who, err := c.Name(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		counts[who]++
	}
	for _, n := range []string{"a", "b", "c"} {
		if counts[n] < 600 {
			t.Errorf("%s got %d of 3000 calls: %v", n, counts[n], counts)
		}
	}
	if err := apps[0].Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		seen := false
		for range 30 {
			who, err := c.Name(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			seen = seen || who == "a"
		}
		if !seen {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the stopped instance still answers after 5s")
		}
	}
}

// Load is a set of callers calling until End.
type Load struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	counts map[string]int
	errs   []error
}

// StartLoad starts n callers of call, which names who answered.
func StartLoad(n int, call func() (string, error)) *Load {
	l := &Load{stop: make(chan struct{}), counts: map[string]int{}}
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				who, err := call()
				l.mu.Lock()
				if err != nil {
					l.errs = append(l.errs, err)
				} else {
					l.counts[who]++
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// End stops the callers and returns who answered how often, and the
// calls that failed.
func (l *Load) End() (map[string]int, []error) {
	close(l.stop)
	l.wg.Wait()
	return l.counts, l.errs
}

// WatchIDs watches service in r until the test ends (or ctx does) and
// sends the ids of each snapshot (IDs); it waits for the first one, which
// must be want.
func WatchIDs(t testing.TB, ctx context.Context, r discovery.Registry, service, want string) <-chan string {
	t.Helper()
	snaps := make(chan string, 10)
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for ins, err := range r.Watch(wctx, discovery.Query{Service: service}) {
			if err == nil {
				snaps <- IDs(ins)
			}
		}
	})
	t.Cleanup(func() { stop(); wg.Wait() })
	if s := <-snaps; s != want {
		t.Fatalf("Watch(%s) first = %q, want %q", service, s, want)
	}
	return snaps
}

// ListingRegistry is a registry that lists its services.
type ListingRegistry interface {
	discovery.Registry
	discovery.Lister
}

// CheckMoved checks that r lists in, registered again under in.Service
// after from, under in.Service only: Discover of both and Services.
func CheckMoved(t testing.TB, ctx context.Context, r ListingRegistry, in discovery.Instance, from string) {
	t.Helper()
	for _, q := range []struct{ service, want string }{{from, ""}, {in.Service, in.ID}} {
		if got, err := r.Discover(ctx, discovery.Query{Service: q.service}); err != nil || IDs(got) != q.want {
			t.Errorf("Discover(%s) = %q, %v; want %q", q.service, IDs(got), err, q.want)
		}
	}
	if names, err := r.Services(ctx); err != nil || strings.Join(names, ",") != in.Service {
		t.Errorf("Services = %v, %v; want [%s]", names, err, in.Service)
	}
}

// CheckLeft checks that the watch of service (WatchIDs) hears its last
// instance leave within 3 s.
func CheckLeft(t testing.TB, snaps <-chan string, service string) {
	t.Helper()
	select {
	case s := <-snaps:
		if s != "" {
			t.Errorf("Watch(%s) after the move = %q, want none", service, s)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("Watch(%s) did not hear the instance leave", service)
	}
}

// RefusesOversizeEntry checks that r's Register refuses an instance
// whose entry would be longer than discovery.MaxEntryBytes, which every
// reader skips, saying why (the size, the limit, the metadata value that
// takes the room) in a short error, registers nothing, and goes on
// registering others.
func RefusesOversizeEntry(t *testing.T, r discovery.Registry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	big := Instance("big", "1.0.0")
	big.Metadata = map[string]string{"zone": "a", "blob": strings.Repeat("y", discovery.MaxEntryBytes)}
	err := r.Register(ctx, big)
	if err == nil {
		t.Fatal("Register of an instance with 1 MiB of metadata succeeded; want an error")
	}
	for _, want := range []string{strconv.Itoa(discovery.MaxEntryBytes), "discovery.MaxEntryBytes", "metadata", `"blob"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Register: %.300v; want it to name %s", err, want)
		}
	}
	if len(err.Error()) > 500 {
		t.Errorf("the error has %d bytes", len(err.Error()))
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(got) != 0 {
		t.Fatalf("Discover = %q, %v; want nothing", IDs(got), err)
	}
	if err := r.Register(ctx, Instance("small", "1.0.0")); err != nil {
		t.Fatal(err)
	}
}

// MalformedEntriesLoggedOnce checks a registry r that holds the instance
// "good" of users, logging to logs, whose entries the test writes with
// put: an entry at junk that is not an instance and one at other holding
// good under another key are skipped by every read and logged once each,
// not on every read; junk, fixed and then broken again, is logged again.
func MalformedEntriesLoggedOnce(t *testing.T, ctx context.Context, r interface {
	discovery.Registry
	discovery.Lister
}, logs *LogBuffer, put func(k, v string), junk, other string) {
	t.Helper()
	put(junk, "{not json")
	put(other, `{"id":"good","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy"}`)
	read := func() {
		t.Helper()
		for range 5 {
			if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || IDs(got) != "good" {
				t.Fatalf("Discover = %q, %v; want good, the malformed entries skipped", IDs(got), err)
			}
			if names, err := r.Services(ctx); err != nil || strings.Join(names, ",") != "users" {
				t.Fatalf("Services = %v, %v; want [users]", names, err)
			}
		}
	}
	read()
	count := func(k string) int { return strings.Count(logs.String(), "key="+k+" ") }
	for _, k := range []string{junk, other} {
		if n := count(k); n != 1 {
			t.Errorf("%s was logged %d times in 10 reads (5 Discover, 5 Services), want once:\n%s", k, n, logs.String())
		}
	}
	put(junk, `{"id":"junk","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"unhealthy"}`)
	if _, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil {
		t.Fatal(err)
	}
	put(junk, "[]")
	read()
	if n := count(junk); n != 2 {
		t.Errorf("%s, broken again after it was fixed, was logged %d times in all, want twice:\n%s", junk, n, logs.String())
	}
}
