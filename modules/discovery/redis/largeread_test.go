package redis_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	neturl "net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// countingProxy forwards connections to the Redis at url and counts the
// bytes Redis sends back; it returns the URL to dial through it and the
// count. It stops with the test.
func countingProxy(t *testing.T, url string) (string, *atomic.Int64) {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		n     atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			wg.Add(2) // under mu, before the cleanup's Wait can run
			mu.Unlock()
			go func() { defer wg.Done(); io.Copy(s, c); s.Close() }()
			go func() {
				defer wg.Done()
				io.Copy(countWriter{c, &n}, s)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	u.Host = ln.Addr().String()
	return u.String(), &n
}

// countWriter writes to w and counts the bytes in n.
type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countWriter) Write(p []byte) (int, error) {
	m, err := c.w.Write(p)
	c.n.Add(int64(m))
	return m, err
}

// A reader does not pull an entry longer than discovery.MaxEntryBytes
// from Redis only to skip it: reads of a service holding one, and of its
// health, take a few bytes from Redis, not megabytes each.
func TestLargeEntryNotTransferred(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw := rawClient(t, url)
	p := prefix(t, url)
	big := testsrv.Instance("big", "1.0.0")
	big.Metadata = map[string]string{"blob": strings.Repeat("y", 2*discovery.MaxEntryBytes)}
	b, err := json.Marshal(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.HSet(ctx, p+":discovery:instance:big", "json", b, "service", "users").Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.SAdd(ctx, p+":discovery:service:users", "big").Err(); err != nil {
		t.Fatal(err)
	}
	via, got := countingProxy(t, url)
	r := open(t, via, p, time.Minute, nil)
	if err := r.Register(ctx, testsrv.Instance("good", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if ins, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(ins) != "good" {
			t.Fatalf("Discover = %q, %v; want good", testsrv.IDs(ins), err)
		}
	}
	if _, err := r.Health(ctx, "big"); err == nil || !strings.Contains(err.Error(), "discovery.MaxEntryBytes") {
		t.Errorf("Health of the large entry: %v; want the error of an entry beyond discovery.MaxEntryBytes", err)
	}
	if n := got.Load(); n > 64<<10 {
		t.Errorf("3 reads and a Health took %d bytes from Redis: the entry of %d bytes was sent to the reader", n, len(b))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("timed out")
	}
}
