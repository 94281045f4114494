package nats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
	"github.com/titanframework/titan/modules/netron"
)

func TestMain(m *testing.M) {
	if testsrv.Child() {
		return
	}
	goleak.VerifyTestMain(m)
}

// prefixSeq tells apart the prefixes of tests that run in parallel.
var prefixSeq atomic.Int64

// prefix returns a bucket prefix of the test's own, whose bucket is
// deleted when the test ends.
func prefix(t *testing.T, url string) string {
	p := fmt.Sprintf("titantest%dn%d", time.Now().UnixNano(), prefixSeq.Add(1))
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		_ = js.DeleteKeyValue(context.Background(), p+"_discovery")
	})
	return p
}

func open(t *testing.T, url, p string, ttl time.Duration, log *slog.Logger) *dnats.Registry {
	t.Helper()
	r, err := dnats.Open(context.Background(), url, p, ttl, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx := context.Background()
	r := open(t, url, prefix(t, url), time.Minute, nil)
	for _, in := range []discovery.Instance{testsrv.Instance("app1/users@1.0.0", "1.0.0"), testsrv.Instance("app2/users@1.4.0", "1.4.0"), testsrv.Instance("app3/users@2.0.0", "2.0.0")} {
		if err := r.Register(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "users", Range: "^1"}); err != nil || testsrv.IDs(got) != "app1/users@1.0.0,app2/users@1.4.0" {
		t.Fatalf("Discover ^1 = %s, %v", testsrv.IDs(got), err)
	}
	if h, err := r.Health(ctx, "app2/users@1.4.0"); err != nil || h != discovery.Healthy {
		t.Fatalf("Health = %v, %v", h, err)
	}
	if err := r.Deregister(ctx, "app2/users@1.4.0"); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Discover(ctx, discovery.Query{Service: "users"}); testsrv.IDs(got) != "app1/users@1.0.0,app3/users@2.0.0" {
		t.Fatalf("after Deregister: %s", testsrv.IDs(got))
	}
	if names, err := r.Services(ctx); err != nil || len(names) != 1 || names[0] != "users" {
		t.Fatalf("Services = %v, %v", names, err)
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "nobody"}); err != nil || len(got) != 0 {
		t.Fatalf("Discover of nobody = %v, %v", got, err)
	}
}

// An instance that stops heartbeating leaves Watch within its TTL (which
// the watcher enforces itself); a malformed entry is skipped and logged.
func TestTTLWatchAndMalformedEntries(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs testsrv.LogBuffer
	p := prefix(t, url)
	r := open(t, url, p, time.Second, slog.New(slog.NewTextHandler(&logs, nil)))

	js := jetStream(t, url)
	kv, err := js.KeyValue(ctx, p+"_discovery")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "users.junk", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(ctx, testsrv.Instance("crashed", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	snaps := make(chan string, 10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ins, err := range r.Watch(ctx, discovery.Query{Service: "users"}) {
			if err == nil {
				snaps <- testsrv.IDs(ins)
			}
		}
	}()
	defer wg.Wait()
	defer cancel()
	if s := <-snaps; s != "crashed" {
		t.Fatalf("first snapshot %q", s)
	}
	if err := r.Register(ctx, testsrv.Instance("joined", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if s := <-snaps; s != "crashed,joined" {
		t.Fatalf("after a join: %q", s)
	}
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		_ = r.Register(ctx, testsrv.Instance("joined", "1.0.0"))
		select {
		case s := <-snaps:
			if s != "joined" {
				t.Fatalf("snapshot %q", s)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the crashed instance left after %v, want within about its 1s TTL", d)
			}
			if !strings.Contains(logs.String(), "not an instance") || !strings.Contains(logs.String(), "users.junk") {
				t.Errorf("the malformed entry was not logged: %s", logs.String())
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatal("the crashed instance did not leave within 5s")
}

// backendSets configure an app's discovery for the NATS at url.
func backendSets(url, p string) []string {
	return []string{"discovery.backend=nats", "discovery.url=" + url, "discovery.prefix=" + p,
		"discovery.heartbeat=200ms", "discovery.ttl=1s", "discovery.deregisterDelay=50ms"}
}

func appSettings(url, p string, sets ...string) titan.Option {
	return testsrv.Settings(append(backendSets(url, p), sets...)...)
}

// Three instances register in NATS; a client that names only the service
// spreads its calls over all three; one that stops leaves the set.
func TestAppsFindEachOther(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	testsrv.SpreadOver(t, backendSets(url, prefix(t, url)))
}

// After the NATS server restarts with its JetStream store gone, the live
// instances are back in the registry within two heartbeats of the
// reconnection.
func TestReRegistersAfterRestart(t *testing.T) {
	t.Parallel()
	port := testsrv.FreePort(t)
	stopServer := testsrv.NATSServerAt(t, port, "")
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	app := titan.New(appSettings(url, "titan", "netron.listen=tcp://127.0.0.1:0"),
		titan.Service("who", "1.0.0", func() *testsrv.Who { return testsrv.NewWho("a") }))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	r := open(t, url, "titan", time.Second, nil)
	count := func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		ins, _ := r.Discover(ctx, discovery.Query{Service: "who"})
		return len(ins)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d instances registered, want 1", n)
	}
	stopServer()
	testsrv.NATSServerAt(t, port, "") // a new, empty store
	began := time.Now()
	for count() != 1 {
		if time.Since(began) > 5*time.Second {
			t.Fatal("the instance was not back within 5s of the restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("back %v after the restart (heartbeat 200ms, reconnect wait 250ms)", time.Since(began).Round(time.Millisecond))
}

// An app started with discovery.required: false while NATS is down
// registers once NATS is up, and presents its services over the NATS
// service protocol then too (the registry that waited for NATS hid it).
func TestPresentsServicesOnceNATSIsUp(t *testing.T) {
	t.Parallel()
	port := testsrv.FreePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	app := testsrv.StartApp(t, appSettings(url, "titan", "netron.listen=tcp://127.0.0.1:0", "discovery.required=false"),
		titan.Service("adder", "1.3.0", func() Adder { return Adder{} }))
	testsrv.NATSServerAt(t, port, "")
	// The app stops while NATS is still up (cleanups run last first): on a
	// server already gone, its deregistration would wait out its timeout.
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	r := open(t, url, "titan", time.Second, nil)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if ins, _ := r.Discover(context.Background(), discovery.Query{Service: "adder"}); len(ins) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not registered within 5 s of NATS coming up")
		}
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msg, err := nc.Request("$SRV.PING.adder", nil, 2*time.Second)
	if err != nil || !strings.Contains(string(msg.Data), `"name":"adder"`) {
		t.Fatalf("registered, but $SRV.PING.adder: %v, %v", msg, err)
	}
}

// Adder is a service with arguments, a failure and a stream.
type Adder struct{}

func (Adder) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }
func (Adder) Div(_ context.Context, a, b float64) (float64, error) {
	if b == 0 {
		return 0, netron.Errorf(netron.CodeInvalidArgument, "division by zero")
	}
	return a / b, nil
}
func (Adder) Count(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

// With the NATS backend every service also answers NATS's service
// protocol: $SRV.PING and $SRV.INFO list it with its version and
// endpoints, and an endpoint calls the method with JSON.
func TestServiceProtocol(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	p := prefix(t, url)
	testsrv.StartApp(t, appSettings(url, p, "netron.listen=tcp://127.0.0.1:0"), titan.Service("adder", "1.3.0", func() Adder { return Adder{} }))
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	var info micro.Info
	msg, err := nc.Request("$SRV.INFO.adder", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(msg.Data, &info); err != nil || info.Name != "adder" || info.Version != "1.3.0" || len(info.Endpoints) != 3 {
		t.Fatalf("$SRV.INFO.adder = %s, %v", msg.Data, err)
	}
	subjects := map[string]string{}
	for _, e := range info.Endpoints {
		subjects[e.Name] = e.Subject
	}
	if subjects["add"] != p+".micro.adder.add" {
		t.Fatalf("endpoints %v", subjects)
	}
	if msg, err := nc.Request("$SRV.PING.adder", nil, 2*time.Second); err != nil || !strings.Contains(string(msg.Data), `"name":"adder"`) {
		t.Fatalf("$SRV.PING: %v, %v", msg, err)
	}

	for _, tc := range []struct{ subject, body, want, code string }{
		{subjects["add"], "[1,2]", "3", ""},
		{subjects["div"], "[1,0]", "", "400"},
		{subjects["add"], "[1,\"x\"]", "", "400"},
		{subjects["add"], "{", "", "400"},
		{subjects["count"], "[3]", "", "501"},
	} {
		msg, err := nc.Request(tc.subject, []byte(tc.body), 2*time.Second)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.subject, tc.body, err)
		}
		if code := msg.Header.Get(micro.ErrorCodeHeader); code != tc.code || tc.code == "" && string(msg.Data) != tc.want {
			t.Errorf("%s %s: %q, code %q (%s); want %q, code %q", tc.subject, tc.body, msg.Data, code, msg.Header.Get(micro.ErrorHeader), tc.want, tc.code)
		}
	}
}

// Three instances run as child processes; one is killed with SIGKILL in
// the middle of the load: no idempotent call fails, and the dead instance
// leaves Discover within its TTL.
func TestKilledInstance(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	p := prefix(t, url)
	names := []string{"a", "b", "c"}
	sets := []string{"discovery.backend=nats", "discovery.url=" + url, "discovery.prefix=" + p, "discovery.heartbeat=200ms", "discovery.ttl=1s"}
	children := testsrv.StartChildren(t, sets, names...)
	var c testsrv.WhoClient
	testsrv.StartApp(t, appSettings(url, p), titan.Remote[testsrv.WhoClient]("who@^1"), titan.Invoke(func(x testsrv.WhoClient) { c = x }))
	testsrv.KillUnderLoad(t, c, children, names, open(t, url, p, time.Second, nil), 4*time.Second)
}

// nats.embedded: true in a program that links the NATS backend but not
// the embedded server fails start-up once, naming the import to add.
func TestEmbeddedNeedsItsImport(t *testing.T) {
	t.Parallel()
	for _, sets := range [][]string{
		{"discovery.backend=nats", "nats.embedded=true"},
		{"discovery.backend=nats", "nats.embedded.port=4300"},
	} {
		err := titan.New(testsrv.Settings(sets...)).Start(context.Background())
		want := `nats.embedded: the machine's embedded NATS server is not linked into this program: add import _ "github.com/titanframework/titan/modules/discovery/nats/embedded"`
		if err == nil || !strings.Contains(err.Error(), want) || strings.Count(err.Error(), "add import") != 1 {
			t.Errorf("%v: %v\nwant it to contain, once:\n%s", sets, err, want)
		}
	}
	// Off, it is the plain backend (which needs a URL's server), opened
	// when the app starts.
	if err := titan.New(testsrv.Settings("discovery.backend=nats", "nats.embedded=false", "discovery.url=nats://127.0.0.1:1")).Start(context.Background()); err == nil || strings.Contains(err.Error(), "embedded") {
		t.Errorf("nats.embedded=false: %v", err)
	}
}

// jetStream connects to the NATS server at url for the test, closed at
// its end, and returns its JetStream.
func jetStream(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}
