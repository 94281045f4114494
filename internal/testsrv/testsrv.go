// Package testsrv gives tests the real servers they need: the URL of the
// test Redis or NATS server, skipping the test loudly when it cannot be reached,
// or failing it under CI=true (where .ci/run starts the servers).
package testsrv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"
)

// Redis returns the URL of the test Redis server (TITAN_TEST_REDIS,
// default redis://127.0.0.1:6379/0).
func Redis(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TITAN_TEST_REDIS")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("TITAN_TEST_REDIS %q: %v", url, err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		unreachable(t, "REDIS", fmt.Sprintf("Redis server %s is unreachable (%v): start it, or set TITAN_TEST_REDIS", url, err))
	}
	return url
}

// redisPrefixes numbers the prefixes RedisPrefix gives in this process.
var redisPrefixes atomic.Int64

// RedisPrefix returns a key prefix of the test's own and deletes its keys
// from the server at url when the test ends. The prefix holds the process
// id and a count, so that tests running in parallel, in one test binary
// or in several, never share one.
func RedisPrefix(t testing.TB, url string) string {
	t.Helper()
	p := fmt.Sprintf("titantest%d-%d-%d", time.Now().UnixNano(), os.Getpid(), redisPrefixes.Add(1))
	t.Cleanup(func() {
		opts, _ := goredis.ParseURL(url)
		c := goredis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		if keys, _ := c.Keys(ctx, p+":*").Result(); len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return p
}

// NATS returns the URL of the test NATS server with JetStream
// (TITAN_TEST_NATS, default nats://127.0.0.1:4222).
func NATS(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TITAN_TEST_NATS")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second), nats.MaxReconnects(0))
	if err != nil {
		unreachable(t, "NATS", fmt.Sprintf("NATS server %s is unreachable (%v): start it, or set TITAN_TEST_NATS", url, err))
	}
	nc.Close()
	return url
}

// NATSServerAt starts a NATS server with JetStream of the test's own on
// 127.0.0.1:port (the nats-server program, Debian's package), keeping its
// store in the folder store (a new empty one when ""), and returns once
// it accepts connections; stop kills it (and is called when the test
// ends, if not before). Without the program the test is skipped loudly,
// and fails under CI=true.
func NATSServerAt(t testing.TB, port int, store string) (stop func()) {
	t.Helper()
	return natsServer(t, port, store)
}

// NATSServerConf starts a NATS server as NATSServerAt does (with a new,
// empty store) whose configuration file holds conf ("max_payload: 4MB"),
// for a test of a server configured otherwise than by default.
func NATSServerConf(t testing.TB, port int, conf string) (stop func()) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(file, []byte(conf+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return natsServer(t, port, "", "-c", file)
}

// natsServer is NATSServerAt, with more arguments of nats-server.
func natsServer(t testing.TB, port int, store string, args ...string) (stop func()) {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nats-server"); err != nil {
			unreachable(t, "NATS", "the nats-server program is not installed (Debian's nats-server)")
		}
	}
	if store == "" {
		store = t.TempDir()
	}
	cmd := exec.Command(bin, append(args, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", store)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = killAtCleanup(t, cmd)
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	for i := 0; ; i++ {
		if nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.MaxReconnects(0)); err == nil {
			nc.Close()
			return stop
		}
		if i > 250 {
			stop()
			t.Fatalf("nats-server on port %d did not start within 5 s", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Etcd returns the URL (etcd://host:port) of an etcd server for the test:
// TITAN_TEST_ETCD when set, else one the test starts from the etcd binary
// (Debian's etcd-server) in a temporary folder on free ports, stopped
// when the test ends.
func Etcd(t testing.TB) string {
	t.Helper()
	if url := os.Getenv("TITAN_TEST_ETCD"); url != "" {
		return url
	}
	client := FreePort(t)
	StartEtcd(t, client, FreePort(t), filepath.Join(t.TempDir(), "data"))
	return fmt.Sprintf("etcd://127.0.0.1:%d", client)
}

// StartEtcd starts an etcd server from the etcd binary on the client and
// peer ports of 127.0.0.1, its data in dataDir, and returns once it
// listens; stop kills it (also when the test ends). A test that restarts
// its server, on the same ports, calls it again.
func StartEtcd(t testing.TB, client, peer int, dataDir string) (stop func()) {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		unreachable(t, "ETCD", "the etcd binary is not installed (Debian's etcd-server), and TITAN_TEST_ETCD is not set")
	}
	cmd := exec.Command(bin, "--name", "titantest", "--data-dir", dataDir,
		"--listen-client-urls", fmt.Sprintf("http://127.0.0.1:%d", client),
		"--advertise-client-urls", fmt.Sprintf("http://127.0.0.1:%d", client),
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peer),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", peer),
		"--initial-cluster", fmt.Sprintf("titantest=http://127.0.0.1:%d", peer))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	stop = killAtCleanup(t, cmd)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", client), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("etcd did not listen within 10s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killAtCleanup returns a function that kills the started cmd and waits
// for it, once, and runs it when the test ends.
func killAtCleanup(t testing.TB, cmd *exec.Cmd) (kill func()) {
	var once sync.Once
	kill = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(kill)
	return kill
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func unreachable(t testing.TB, what, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Fprintf(os.Stderr, "\n!!!!!!!! SKIPPING %s TESTS: %s !!!!!!!!\n\n", what, msg)
	t.Skip(msg)
}
