package nats_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
)

// bucketAge is the age limit of the bucket of prefix p.
func bucketAge(t *testing.T, url, p string) time.Duration {
	t.Helper()
	js := jetStream(t, url)
	kv, err := js.KeyValue(context.Background(), p+"_discovery")
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.TTL()
}

// Every app of a prefix, and readers such as titan services, share the
// bucket: opening it with a shorter ttl does not lower its age limit
// (which made the entries of apps with a longer one age out between their
// heartbeats); a longer ttl raises it.
func TestSharedBucketAgeIsNeverLowered(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx := context.Background()
	p := prefix(t, url)
	writer := open(t, url, p, time.Minute, nil)
	if err := writer.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	reader := open(t, url, p, 500*time.Millisecond, nil) // another app, discovery.ttl: 500ms
	if age := bucketAge(t, url, p); age != time.Minute {
		t.Fatalf("after an app with a ttl of 500ms opened it, the bucket's age limit is %v, want 1m", age)
	}
	time.Sleep(750 * time.Millisecond) // past the reader's ttl (by half of it), well within the writer's
	for name, r := range map[string]interface {
		Discover(context.Context, discovery.Query) ([]discovery.Instance, error)
	}{"writer": writer, "reader with a shorter ttl": reader} {
		if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(got) != 1 {
			t.Fatalf("%s: 750 ms after an entry of ttl 1m was written, Discover = %v, %v", name, testsrv.IDs(got), err)
		}
	}
	open(t, url, p, 2*time.Minute, nil)
	if age := bucketAge(t, url, p); age != 2*time.Minute {
		t.Fatalf("after an app with a ttl of 2m opened it, the bucket's age limit is %v, want 2m", age)
	}
}

// An entry lives its writer's ttl, whatever the reader's: a reader with
// a longer one does not keep the entries of a writer that stopped
// heartbeating past their ttl.
func TestEntryLivesItsWritersTTL(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx := context.Background()
	p := prefix(t, url)
	reader := open(t, url, p, time.Minute, nil)
	writer := open(t, url, p, 500*time.Millisecond, nil)
	if err := writer.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if got, err := reader.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(got) != 1 {
		t.Fatalf("Discover at once = %v, %v", testsrv.IDs(got), err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for snap, err := range reader.Watch(wctx, discovery.Query{Service: "users"}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(snap) == 0 {
			break // the entry aged out on its writer's ttl
		}
	}
	if wctx.Err() != nil {
		t.Fatal("a watcher with a ttl of 1m still saw an entry of ttl 500ms 5 s after it was written")
	}
	if got, err := reader.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(got) != 0 {
		t.Fatalf("Discover after the entry's ttl = %v, %v, want none", testsrv.IDs(got), err)
	}
}

// A watch that reconnects (the server restarted with its store) yields
// what changed, not again the snapshot it had yielded.
func TestWatchAcrossAReconnection(t *testing.T) {
	t.Parallel()
	port := testsrv.FreePort(t)
	store := t.TempDir()
	stopServer := testsrv.NATSServerAt(t, port, store)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	ctx := context.Background()
	writerLog, writerBack := logged("after reconnecting")
	readerLog, watchingAgain := logged("watching again")
	writer := open(t, url, "titan", time.Minute, writerLog)
	reader := open(t, url, "titan", time.Minute, readerLog)
	if err := writer.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	snaps := make(chan string, 16)
	go func() {
		defer close(snaps)
		for snap, err := range reader.Watch(wctx, discovery.Query{Service: "users"}) {
			if err == nil {
				snaps <- testsrv.IDs(snap)
			}
		}
	}()
	if got := <-snaps; got != "app1/users@1.0.0" {
		t.Fatalf("first snapshot %q", got)
	}
	stopServer()
	testsrv.NATSServerAt(t, port, store) // the same store: nothing changed
	// Both reconnect, and the watch starts again and has the entries.
	for _, ev := range []struct {
		what string
		ch   <-chan struct{}
	}{{"the writer reconnected", writerBack}, {"the watch started again", watchingAgain}} {
		select {
		case <-ev.ch:
		case <-wctx.Done():
			t.Fatalf("the server restarted, but not %s", ev.what)
		}
	}
	if err := writer.Register(ctx, testsrv.Instance("app2/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	for got := range snaps {
		switch got {
		case "app1/users@1.0.0,app2/users@1.0.0":
			return
		case "app1/users@1.0.0":
			t.Fatal("after the reconnection the watch yielded again the snapshot it had yielded")
		default:
			t.Fatalf("snapshot %q", got)
		}
	}
	t.Fatal("the watch ended without the second instance")
}

// A server that restarted without its store may get the bucket from
// another app first, made with that app's shorter ttl: the app that
// reconnects raises the bucket's age limit to its own ttl again, so that
// its entries do not age out between its heartbeats.
func TestReconnectionRaisesTheAgeOfABucketMadeAgain(t *testing.T) {
	t.Parallel()
	port := testsrv.FreePort(t)
	stopServer := testsrv.NATSServerAt(t, port, "")
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	ctx := context.Background()
	others := make(chan *dnats.Registry, 1)
	var once sync.Once
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) {
			once.Do(func() {
				// Another app, with a ttl of 1s, gets to the new server
				// first.
				other, err := dnats.Open(ctx, url, "titan", time.Second, nil)
				if err != nil {
					t.Error(err)
				}
				others <- other
			})
		}))
	if err != nil {
		t.Fatal(err)
	}
	rlog, back := logged("after reconnecting")
	r, err := dnats.OpenConn(ctx, nc, "titan", time.Minute, rlog)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	stopServer()
	testsrv.NATSServerAt(t, port, "") // a new, empty store
	if other := <-others; other != nil {
		defer other.Close()
	}
	// The registry logs that it registered again, or why not.
	select {
	case <-back:
	case <-time.After(10 * time.Second):
		t.Fatal("the registry did not register again within 10 s of the restart")
	}
	if age := bucketAge(t, url, "titan"); age != time.Minute {
		t.Fatalf("after the reconnection, the bucket's age limit is %v, want the app's ttl of 1m", age)
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(got) != 1 {
		t.Fatalf("Discover after the reconnection = %v, %v", testsrv.IDs(got), err)
	}
}

// logged returns a logger, and a channel that receives once for each of
// its records whose message contains msg.
func logged(msg string) (*slog.Logger, <-chan struct{}) {
	ch := make(chan struct{}, 16)
	return slog.New(signalHandler{msg: msg, ch: ch}), ch
}

type signalHandler struct {
	msg string
	ch  chan struct{}
}

func (signalHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.msg) {
		select {
		case h.ch <- struct{}{}:
		default:
		}
	}
	return nil
}

func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }
