package netron_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// TestConformanceHTTP runs the conformance behaviours that the HTTP
// protocol can carry (it has no server-to-client calls, so no events, and
// no cancel or credit of streams: a stream is one response) over http://
// and https://, through the JSON routes.
func TestConformanceHTTP(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := transporttest.TLSConfigs(t)
	for _, tc := range []struct {
		scheme string
		opts   []netron.Option
		client *http.Client
	}{
		{"http", nil, &http.Client{}},
		{"https", []netron.Option{netron.WithTLS(serverTLS, nil)}, &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}}},
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			n, err := newConfServer(netron.Config{}, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Stop(ctx)
			limit := 64 << 10
			addr, err := n.Listen(ctx, fmt.Sprintf("%s://127.0.0.1:0?maxBody=%d", tc.scheme, limit))
			if err != nil {
				t.Fatal(err)
			}
			defer tc.client.CloseIdleConnections()
			post := func(method, body string, hdr ...string) (int, http.Header, []byte) {
				t.Helper()
				req, _ := http.NewRequest("POST", addr+"/rpc/conf@1.0.0/"+method, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				resp, err := tc.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, resp.Header, b
			}

			t.Run("positional args", func(t *testing.T) {
				if code, _, b := post("add", "[1.5, 2]"); code != 200 || string(bytes.TrimSpace(b)) != "3.5" {
					t.Fatalf("add: %d %s", code, b)
				}
				if code, _, b := post("move", `[{"x":1,"y":2}, 5]`); code != 200 || !strings.Contains(string(b), `"x":6`) {
					t.Fatalf("move: %d %s", code, b)
				}
			})
			t.Run("error codes", func(t *testing.T) {
				for _, c := range netron.Codes {
					status, hdr, b := post("fail", fmt.Sprintf("[%q]", c.String()))
					if hdr.Get("X-Titan-Code") != c.String() {
						t.Errorf("%s: X-Titan-Code %q (status %d, %s)", c, hdr.Get("X-Titan-Code"), status, b)
					}
					if want := c.WireCode(); want >= 400 && want < 600 && status != want {
						t.Errorf("%s: status %d, want %d", c, status, want)
					}
				}
			})
			t.Run("contract violations", func(t *testing.T) {
				if code, _, b := post("add", `["one", 2]`); code != 400 || !strings.Contains(string(b), "/0") {
					t.Errorf("input violation: %d %s", code, b)
				}
				if code, _, _ := post("negative", `[]`); code != 500 {
					t.Errorf("output violation: %d", code)
				}
			})
			t.Run("stream order and end", func(t *testing.T) {
				req, _ := http.NewRequest("POST", addr+"/rpc/conf@1.0.0/count", strings.NewReader("[300]"))
				req.Header.Set("Accept", "application/x-ndjson")
				resp, err := tc.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				sc := bufio.NewScanner(resp.Body)
				i := 0
				for sc.Scan() {
					if sc.Text() != fmt.Sprint(i) {
						t.Fatalf("line %d = %q", i, sc.Text())
					}
					i++
				}
				if i != 300 {
					t.Fatalf("%d items, want 300", i)
				}
			})
			t.Run("stream cancel", func(t *testing.T) {
				req, _ := http.NewRequest("POST", addr+"/rpc/conf@1.0.0/ticks", strings.NewReader("[1000000]"))
				req.Header.Set("Accept", "application/x-ndjson")
				resp, err := tc.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				sc := bufio.NewScanner(resp.Body)
				for range 3 {
					if !sc.Scan() {
						t.Fatal("no items")
					}
				}
				_, _, b := post("probe", "[]")
				var before map[string]int64
				if json.Unmarshal(b, &before) != nil || before["active"] != 1 {
					t.Fatalf("the producer is not running while the stream is read: %s", b)
				}
				resp.Body.Close() // the reader goes away
				deadline := time.Now().Add(5 * time.Second)
				for {
					_, _, b := post("probe", "[]")
					var pr map[string]int64
					if json.Unmarshal(b, &pr) == nil && pr["active"] == 0 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("the producer still runs 5s after the reader left: %s", b)
					}
					time.Sleep(20 * time.Millisecond)
				}
			})
			t.Run("payload limit", func(t *testing.T) {
				under := `["` + strings.Repeat("u", limit-64) + `"]`
				if code, _, b := post("echo", under); code != 200 || len(b) < limit-64 {
					t.Fatalf("just under the limit: %d, %d bytes", code, len(b))
				}
				if code, _, _ := post("echo", `["`+strings.Repeat("o", limit+1)+`"]`); code != 413 {
					t.Fatalf("over the limit: %d, want 413", code)
				}
				if code, _, b := post("add", "[1,1]"); code != 200 || string(bytes.TrimSpace(b)) != "2" {
					t.Fatalf("after an oversize body: %d %s", code, b)
				}
			})
			t.Run("1000 concurrent calls", func(t *testing.T) {
				var wg sync.WaitGroup
				var failed atomic.Int64
				sem := make(chan struct{}, 64) // HTTP/1.1: a connection per call in flight
				for i := range 1000 {
					wg.Add(1)
					sem <- struct{}{}
					go func() {
						defer wg.Done()
						defer func() { <-sem }()
						resp, err := tc.client.Post(addr+"/rpc/conf@1.0.0/add", "application/json", strings.NewReader(fmt.Sprintf("[%d,1]", i)))
						if err != nil {
							failed.Add(1)
							return
						}
						var v float64
						err = json.NewDecoder(resp.Body).Decode(&v)
						resp.Body.Close()
						if err != nil || v != float64(i+1) {
							failed.Add(1)
						}
					}()
				}
				wg.Wait()
				if failed.Load() > 0 {
					t.Fatalf("%d of 1000 calls failed", failed.Load())
				}
			})
			t.Run("server restart", func(t *testing.T) {
				n.Stop(ctx)
				tc.client.CloseIdleConnections()
				if _, err := tc.client.Post(addr+"/rpc/conf@1.0.0/add", "application/json", strings.NewReader("[1,1]")); err == nil {
					t.Fatal("a call succeeded with the server stopped")
				}
				m, err := newConfServer(netron.Config{}, tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Stop(ctx)
				hostport := addr[strings.Index(addr, "//")+2:]
				if _, err := m.Listen(ctx, tc.scheme+"://"+hostport); err != nil {
					t.Fatal(err)
				}
				if code, _, b := post("add", "[2,2]"); code != 200 || string(bytes.TrimSpace(b)) != "4" {
					t.Fatalf("after the restart: %d %s", code, b)
				}
			})
		})
	}
}
