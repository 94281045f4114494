package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/netron/transport"
)

// startLimited serves the calculator over HTTP with the limits of cfg.
func startLimited(t *testing.T, cfg netron.Config) string {
	t.Helper()
	n, err := netron.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", &Calculator{}, netron.WithHTTP("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	u, _ := url.Parse(addr)
	return u.Host
}

func dialRaw(t *testing.T, hostport string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", hostport, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// TestSlowBodyIs408: a request body trickled at 50 B/s is cut after netron.frameTimeout and
// answered 408 with the §11.4 error body; the connection is closed.
func TestSlowBodyIs408(t *testing.T) {
	t.Parallel()
	host := startLimited(t, netron.Config{FrameTimeout: 300 * time.Millisecond})
	c := dialRaw(t, host)
	body := "[1," + strings.Repeat(" ", 200) + "2]"
	if _, err := io.WriteString(c, "POST /api/calculator/add HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := range len(body) {
			if _, err := c.Write([]byte{body[i]}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond) // the trickle's pace
		}
	}()
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d %s, want 408", resp.StatusCode, b)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(b, &e); err != nil || !strings.Contains(e.Error.Message, "not completed in time") {
		t.Fatalf("body %s: %v; want an error saying the body was not completed in time", b, err)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("the connection stayed open after the cut body")
	}
}

// TestConnCapFromConfig: netron.maxConnsPerListener caps the gateway's connections.
func TestConnCapFromConfig(t *testing.T) {
	t.Parallel()
	host := startLimited(t, netron.Config{MaxConnsPerListener: 1})
	held := dialRaw(t, host)
	over := dialRaw(t, host)
	if _, err := io.ReadAll(over); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("a second connection with maxConnsPerListener 1: %v; want it closed", err)
	}
	if _, err := io.WriteString(held, "POST /api/calculator/add HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n[1,2]"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(held), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "3" {
		t.Fatalf("the admitted connection got %d %s", resp.StatusCode, b)
	}
}

// TestLimitsSharedWithWebSocket: a ws:// listener and the gateway on one port take the same
// limits from the Netron's configuration, so they share the port; a gateway given other
// limits is refused with a message saying so.
func TestLimitsSharedWithWebSocket(t *testing.T) {
	n, err := netron.New(netron.Config{FrameTimeout: 300 * time.Millisecond, MaxConnsPerListener: 50}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	port := freePort(t)
	for _, addr := range []string{"ws://127.0.0.1:" + port, "http://127.0.0.1:" + port} {
		if _, err := n.Listen(context.Background(), addr); err != nil {
			t.Fatalf("Listen(%s): %v", addr, err)
		}
	}
	_, err = httptransport.Listen(context.Background(), n, "http://127.0.0.1:"+port, httptransport.WithLimits(transport.Options{MaxConns: 7}))
	if err == nil || !strings.Contains(err.Error(), "other limits") {
		t.Fatalf("a gateway with other limits on the shared port: %v; want an error about the limits", err)
	}
	if _, err := httptransport.NewHandler(n, httptransport.WithLimits(transport.Options{MaxConnsPerIP: -1})); err == nil ||
		!strings.Contains(err.Error(), "WithLimits") || !strings.Contains(err.Error(), "MaxConnsPerIP") {
		t.Fatalf("WithLimits with a negative MaxConnsPerIP: %v; want an error naming both", err)
	}
}
