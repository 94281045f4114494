package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// netron-http calls the same Echo service through the HTTP gateway: unary
// by POST /netron/invoke (the original's JSON protocol) with Titan's Go
// client (httptransport.Client), streams by the method's JSON route with
// NDJSON. netron-http-std makes the same unary calls with net/http and
// encoding/json alone, as a program without Titan would. HTTP/1.1 needs a
// connection per call in flight, so the clients keep up to conc connections.
func init() {
	register("netron-http", system{setup: func(c caseSpec) (*bench, error) { return setupNetronHTTP(c, true) },
		note: "HTTP/1.1 gateway, JSON, Titan's HTTP client, one connection per caller"})
	register("netron-http-std", system{setup: func(c caseSpec) (*bench, error) { return setupNetronHTTP(c, false) },
		note: "HTTP/1.1 gateway, JSON, net/http + encoding/json client, one connection per caller"})
}

func setupNetronHTTP(c caseSpec, titanClient bool) (*bench, error) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		return nil, err
	}
	if err := n.Register("echo", "1.0.0", Echo{}); err != nil {
		return nil, err
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: c.Conc, MaxConnsPerHost: c.Conc}
	hc := &http.Client{Transport: tr}
	type invoke struct {
		ID      string `json:"id"`
		Version string `json:"version"`
		Service string `json:"service"`
		Method  string `json:"method"`
		Input   []any  `json:"input"`
	}
	invokeURL := addr + "/netron/invoke"
	unary := func(ctx context.Context, payload string) error {
		body, _ := json.Marshal(invoke{ID: "1", Version: "1.0", Service: "echo@1.0.0", Method: "echo", Input: []any{payload}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, invokeURL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var out struct {
			Success bool   `json:"success"`
			Data    string `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return err
		}
		if !out.Success {
			return fmt.Errorf("bad answer (status %d)", resp.StatusCode)
		}
		return echoed(out.Data, payload)
	}
	if titanClient {
		tc, err := httptransport.NewClient(addr, httptransport.WithHTTPClient(hc))
		if err != nil {
			return nil, err
		}
		unary = func(ctx context.Context, payload string) error {
			out, err := httptransport.CallUnary[string](ctx, tc, "echo@1.0.0", "echo", payload)
			if err != nil {
				return err
			}
			return echoed(out, payload)
		}
	}
	return &bench{
		unary: unary,
		stream: func(ctx context.Context, payload string, count int) (int, error) {
			body, _ := json.Marshal([]any{payload, count})
			req, _ := http.NewRequestWithContext(ctx, "POST", addr+"/rpc/echo@1.0.0/repeat", bytes.NewReader(body))
			req.Header.Set("Accept", "application/x-ndjson")
			resp, err := hc.Do(req)
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			want, _ := json.Marshal(payload) // each NDJSON line is the item's JSON
			got := 0
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "{") {
					return got, fmt.Errorf("stream error: %s", sc.Text())
				}
				if err := echoed(sc.Bytes(), string(want)); err != nil {
					return got, err
				}
				got++
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			return got, sc.Err()
		},
		conns: c.Conc,
		cleanup: func() {
			tr.CloseIdleConnections()
			n.Stop(context.Background())
		},
	}, nil
}
