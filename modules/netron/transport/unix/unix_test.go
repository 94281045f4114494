package unix_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
	_ "github.com/titanframework/titan/modules/netron/transport/unix"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	t.Parallel()
	transporttest.Run(t, "unix")
}

func TestStream(t *testing.T) {
	transporttest.RunStream(t, "unix", func(ctx context.Context, addr string) (net.Conn, error) {
		u, err := url.Parse(addr)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		return d.DialContext(ctx, "unix", u.Path)
	})
}

func TestLimits(t *testing.T) {
	transporttest.RunLimits(t, "unix", transporttest.RawPeer{
		Dial: func(ctx context.Context, addr string, _ netip.Addr) (net.Conn, error) {
			u, err := url.Parse(addr)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, "unix", u.Path)
		},
		Frame: func(body []byte) []byte {
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
		},
		Flood: 300,
	})
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	tr, err := transport.Lookup("unix")
	if err != nil {
		t.Fatal(err)
	}
	want := transport.Capabilities{Streaming: true, Bidirectional: true, Binary: true, Reconnection: true, MaxFrameSize: 16 << 20}
	if got := tr.Capabilities(); got != want {
		t.Fatalf("Capabilities() = %+v, want %+v", got, want)
	}
}

// shortDir returns a fresh directory with a path short enough for socket names.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func listen(t *testing.T, addr string) (transport.Listener, error) {
	t.Helper()
	l, err := transport.Listen(context.Background(), addr, transport.Options{})
	if err == nil {
		t.Cleanup(func() { _ = l.Close() })
	}
	return l, err
}

func TestAddressForms(t *testing.T) {
	dir := shortDir(t)
	t.Chdir(dir)
	tests := []struct {
		addr, path string
	}{
		{"unix://" + dir + "/a.sock", dir + "/a.sock"},
		{"unix:" + dir + "/b.sock", dir + "/b.sock"},
		{"unix:c.sock", dir + "/c.sock"},
		{"unix:" + dir + "/with%20space.sock", dir + "/with space.sock"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			l, err := listen(t, tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if want := (&url.URL{Scheme: "unix", Path: tt.path}).String(); l.Addr() != want {
				t.Errorf("Addr() = %q, want %q", l.Addr(), want)
			}
			if fi, err := os.Lstat(tt.path); err != nil || fi.Mode()&fs.ModeSocket == 0 {
				t.Fatalf("no socket at %s: %v", tt.path, err)
			}
			client, server := transporttest.Connect(t, l, transport.Options{})
			if err := client.WriteMessages([]byte("hi")); err != nil {
				t.Fatal(err)
			}
			if m, err := server.ReadMessage(); err != nil || string(m) != "hi" {
				t.Fatalf("ReadMessage = %q, %v", m, err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(tt.path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("socket file still there after Close: %v", err)
			}
		})
	}
	for _, bad := range []string{"unix://host/x.sock", "unix://", "unix:"} {
		if _, err := listen(t, bad); err == nil || !strings.Contains(err.Error(), "unix:///abs/path") {
			t.Errorf("Listen(%q) = %v, want an error listing the accepted forms", bad, err)
		}
	}
}

func TestStaleSocketIsReplaced(t *testing.T) {
	t.Parallel()
	path := filepath.Join(shortDir(t), "stale.sock")
	// Leave a socket file behind with nobody listening, as a crashed process would.
	nl, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	nl.(*net.UnixListener).SetUnlinkOnClose(false)
	_ = nl.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	l, err := listen(t, "unix://"+path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	transporttest.Connect(t, l, transport.Options{})
}

func TestRegularFileIsNeverRemoved(t *testing.T) {
	t.Parallel()
	path := filepath.Join(shortDir(t), "data.txt")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := listen(t, "unix://"+path)
	if err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Listen on a regular file = %v, want a 'not a socket' error", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "precious" {
		t.Fatalf("regular file changed: %q, %v", b, err)
	}
}

func TestLiveSocketIsNotStolen(t *testing.T) {
	t.Parallel()
	l := transporttest.Listen(t, "unix", transport.Options{})
	_, err := listen(t, l.Addr())
	if err == nil || !strings.Contains(err.Error(), "another listener") {
		t.Fatalf("second Listen on a live socket = %v, want an 'another listener' error", err)
	}
	transporttest.Connect(t, l, transport.Options{}) // the first listener still answers
}

// A socket path longer than the operating system allows is refused with an error that says
// so, not with the "invalid argument" of bind and connect.
func TestTooLongPathIsNamed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(shortDir(t), strings.Repeat("a", 120)+".sock")
	ctx := context.Background()
	if l, err := transport.Listen(ctx, "unix://"+path, transport.Options{}); err == nil {
		_ = l.Close()
		t.Fatalf("Listen on a %d-byte path succeeded", len(path))
	} else if !strings.Contains(err.Error(), "too long") || !strings.Contains(err.Error(), path) {
		t.Errorf("Listen on a %d-byte path = %q, want an error naming the path as too long", len(path), err)
	}
	if c, err := transport.Dial(ctx, "unix://"+path, transport.Options{}); err == nil {
		_ = c.Close()
		t.Fatalf("Dial on a %d-byte path succeeded", len(path))
	} else if !strings.Contains(err.Error(), "too long") || !strings.Contains(err.Error(), path) {
		t.Errorf("Dial on a %d-byte path = %q, want an error naming the path as too long", len(path), err)
	}
}

// Closing a listener whose socket file was removed from under it (by a temp cleaner, an
// operator) and taken by a new listener leaves the new listener's file alone.
func TestCloseKeepsAnotherListenersSocket(t *testing.T) {
	t.Parallel()
	path := filepath.Join(shortDir(t), "s.sock")
	old, err := listen(t, "unix://"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	l, err := listen(t, "unix://"+path)
	if err != nil {
		t.Fatalf("Listen after the socket file was removed: %v", err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSocket == 0 {
		t.Fatalf("the live listener's socket file is gone after the old listener closed: %v", err)
	}
	transporttest.Connect(t, l, transport.Options{}) // the new listener still answers
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket file still there after Close: %v", err)
	}
}

func BenchmarkRoundTrip(b *testing.B) { transporttest.BenchmarkRoundTrip(b, "unix") }

// Listeners started together on a path with a stale socket file do not remove one another's
// socket: one of them serves the path and the others are refused, never two that both
// succeed with one unreachable.
func TestConcurrentListenOverStaleSocket(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)
	for round := range 200 {
		path := filepath.Join(dir, fmt.Sprintf("%d.sock", round))
		nl, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		nl.(*net.UnixListener).SetUnlinkOnClose(false)
		_ = nl.Close()
		const n = 4
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			served []transport.Listener
		)
		for range n {
			wg.Go(func() {
				l, err := transport.Listen(context.Background(), "unix://"+path, transport.Options{})
				if err != nil {
					if !strings.Contains(err.Error(), "another listener") {
						t.Errorf("Listen: %v", err)
					}
					return
				}
				mu.Lock()
				served = append(served, l)
				mu.Unlock()
			})
		}
		wg.Wait()
		for _, l := range served {
			t.Cleanup(func() { _ = l.Close() })
		}
		if len(served) != 1 {
			t.Fatalf("round %d: %d of %d listeners on one path succeeded, want 1 (a live listener's socket file was removed)", round, len(served), n)
		}
		transporttest.Connect(t, served[0], transport.Options{})
	}
}

// On Linux, unix:@name is an abstract socket: no file is made or removed, the listener's Addr
// is the address it was given, and it is reached by that address. Elsewhere it is refused.
func TestAbstractSocket(t *testing.T) {
	dir := shortDir(t)
	t.Chdir(dir)
	name := fmt.Sprintf("@titan-test-%d-%s", os.Getpid(), filepath.Base(dir))
	for _, addr := range []string{"unix:" + name, "unix:" + name + "-with%20space"} {
		l, err := listen(t, addr)
		if runtime.GOOS != "linux" {
			if err == nil || !strings.Contains(err.Error(), "abstract") {
				t.Fatalf("Listen(%q) = %v, want an error saying abstract sockets are Linux only", addr, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if l.Addr() != addr {
			t.Errorf("Addr() = %q, want %q", l.Addr(), addr)
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Errorf("Listen(%q) made files in the working directory: %v %v", addr, entries, err)
		}
		c, err := transport.Dial(context.Background(), l.Addr(), transport.Options{})
		if err != nil {
			t.Fatalf("Dial(%q): %v", l.Addr(), err)
		}
		if c.RemoteAddr() != addr {
			t.Errorf("RemoteAddr() = %q, want %q", c.RemoteAddr(), addr)
		}
		_ = c.Close()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l, err = listen(t, addr) // the name is free again once closed
		if err != nil {
			t.Fatalf("Listen(%q) after Close: %v", addr, err)
		}
		_ = l.Close()
	}
	if _, err := listen(t, "unix:@"); err == nil || !strings.Contains(err.Error(), "unix:@name") {
		t.Errorf(`Listen("unix:@") = %v, want an error asking for a name`, err)
	}
}

// A query, which unix addresses do not read, is refused by Listen and Dial with an error that
// names the address and the key, instead of listening on the path before the "?".
func TestQueryIsRefused(t *testing.T) {
	t.Parallel()
	dir := shortDir(t)
	path := filepath.Join(dir, "q.sock")
	ctx := context.Background()
	for _, addr := range []string{"unix://" + path + "?mode=0600", "unix:" + path + "?mode=0600"} {
		l, err := transport.Listen(ctx, addr, transport.Options{})
		if err == nil {
			_ = l.Close()
		}
		if err == nil || !strings.Contains(err.Error(), `"mode"`) || !strings.Contains(err.Error(), path) {
			t.Errorf("Listen(%q) = %v, want the query refused naming the address and the key", addr, err)
		}
	}
	l := transporttest.Listen(t, "unix", transport.Options{})
	addr := l.Addr() + "?mode=0600"
	c, err := transport.Dial(ctx, addr, transport.Options{})
	if err == nil {
		_ = c.Close()
	}
	if err == nil || !strings.Contains(err.Error(), `"mode"`) {
		t.Errorf("Dial(%q) = %v, want the query refused naming the key", addr, err)
	}
}
