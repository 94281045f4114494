package netron_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/http" // http://
)

// TestHTTPAndWebSocketShareAPort: whichever is listened on first, ws:// and
// http:// on one host:port both serve.
func TestHTTPAndWebSocketShareAPort(t *testing.T) {
	t.Parallel()
	for _, first := range []string{"http", "ws"} {
		t.Run(first+" first", func(t *testing.T) {
			ctx := context.Background()
			n, err := netron.New(netron.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Stop(ctx)
			if err := n.Register("calculator", "1.0.0", &Calc{}, netron.WithHTTP("/api/calculator")); err != nil {
				t.Fatal(err)
			}
			second := map[string]string{"http": "ws", "ws": "http"}[first]
			a, err := n.Listen(ctx, first+"://127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hostport := a[strings.Index(a, "//")+2:]
			if _, err := n.Listen(ctx, second+"://"+hostport); err != nil {
				t.Fatalf("%s on the same port: %v", second, err)
			}
			p := dial(t, "ws://"+hostport)
			if v, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
				t.Fatalf("ws add = %v, %v", v, err)
			}
			for path, body := range map[string]string{
				"/api/calculator/add": "[1,2]",
				"/netron/invoke":      `{"id":"1","version":"1.0","timestamp":0,"service":"calculator@1.0.0","method":"add","input":[1,2]}`,
			} {
				resp, err := testsrv.HTTPClient.Post("http://"+hostport+path, "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(b), "3") {
					t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
				}
			}
		})
	}
}

// A Netron's shared ports are its own: another Netron of the process asked
// to listen with ws:// on the address of the first one's http:// gateway
// does not mount on the first one's server (it tries to bind and finds the
// port taken), and after the first stops the port is free for anyone.
func TestSharedPortsBelongToOneNetron(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := first.Listen(ctx, "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hostport := a[strings.Index(a, "//")+2:]
	second, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop(ctx)
	if _, err := second.Listen(ctx, "ws://"+hostport); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("a second Netron listened on the first one's port: %v", err)
	}
	if _, err := first.Listen(ctx, "ws://"+hostport); err != nil {
		t.Fatalf("the Netron that holds the port could not share it: %v", err)
	}
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Listen(ctx, "ws://"+hostport); err != nil {
		t.Fatalf("the port is still held after its Netron stopped: %v", err)
	}
}

// TestSharedPortCountsEveryConnection: on a port that ws:// and http://
// share, netron.maxConnsPerAddress counts the port's connections, whatever
// they speak: with a cap of 2, two WebSocket peers leave no room for an HTTP
// request, and an HTTP keep-alive connection and a WebSocket peer leave no
// room for another WebSocket peer.
func TestSharedPortCountsEveryConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n, err := netron.New(netron.Config{MaxConnsPerAddress: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	a, err := n.Listen(ctx, "ws://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hostport := a[strings.Index(a, "//")+2:]
	if _, err := n.Listen(ctx, "http://"+hostport); err != nil {
		t.Fatal(err)
	}
	const invoke = `{"id":"1","version":"1.0","timestamp":0,"service":"calculator@1.0.0","method":"add","input":[1,2]}`
	post := func(c *http.Client) error {
		resp, err := c.Post("http://"+hostport+"/netron/invoke", "application/json", strings.NewReader(invoke))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.ReadAll(resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	once := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

	p1 := dial(t, "ws://"+hostport)
	p2 := dial(t, "ws://"+hostport)
	if err := post(once); err == nil {
		t.Fatal("an HTTP request was served beside two WebSocket peers with maxConnsPerAddress 2")
	}
	for _, p := range []*netron.Peer{p1, p2} {
		if v, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
			t.Fatalf("a WebSocket peer under the cap: add = %v, %v", v, err)
		}
	}

	// One WebSocket peer leaves: an HTTP keep-alive connection takes its place.
	p2.Close()
	keep := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}, Timeout: 5 * time.Second}
	defer keep.CloseIdleConnections()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := post(keep)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HTTP request served after a WebSocket peer left: %v", err)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if p, err := netron.Dial(dctx, "ws://"+hostport); err == nil {
		p.Close()
		t.Fatal("a third connection, a WebSocket peer, was accepted beside a WebSocket peer and an HTTP connection with maxConnsPerAddress 2")
	}
	if err := post(keep); err != nil {
		t.Fatalf("the HTTP keep-alive connection under the cap: %v", err)
	}
}
