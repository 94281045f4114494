package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	httptransport "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/netron/validate"
)

// netron-http calls the same Echo service through the HTTP gateway: unary
// by POST /netron/invoke (the original's JSON protocol) with Titan's Go
// client (httptransport.Client), streams by the method's JSON route with
// NDJSON. netron-http-std makes the same unary calls with net/http and
// encoding/json alone, as a program without Titan would. HTTP/1.1 needs a
// connection per call in flight, so the clients keep up to conc connections.
func init() {
	register("netron-http", system{setup: func(c caseSpec) (*bench, error) { return setupNetronHTTP(c, true, false) },
		note: "HTTP/1.1 gateway, JSON, validated, Titan's HTTP client, one connection per caller"})
	register("netron-http-noval", system{setup: func(c caseSpec) (*bench, error) { return setupNetronHTTP(c, true, true) },
		note: "same, contract validation off"})
	register("netron-http-std", system{setup: func(c caseSpec) (*bench, error) { return setupNetronHTTP(c, false, false) },
		note: "HTTP/1.1 gateway, JSON, validated, net/http + encoding/json client, one connection per caller"})
}

func setupNetronHTTP(c caseSpec, titanClient, noval bool) (*bench, error) {
	if c.Family == familyBytes {
		return &bench{cleanup: func() {}}, nil // binary data has no plain JSON form
	}
	features := []netron.Interceptor{cache.New(0)}
	if !noval {
		features = append(features, validate.New(nil))
	}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(features...))
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
	// Answers uncompressed, as connect's and grpc-go's are here: net/http
	// would ask for gzip, and the gateway gzips answers of 1 KiB or more
	// when asked, so the list family would measure compression.
	tr := &http.Transport{MaxIdleConnsPerHost: c.Conc, MaxConnsPerHost: c.Conc, DisableCompression: true}
	hc := &http.Client{Transport: tr}
	invokeURL := addr + "/netron/invoke"
	cleanup := func() {
		tr.CloseIdleConnections()
		n.Stop(context.Background())
	}
	if structured(c.Family) {
		return httpStructured(c, addr, hc, titanClient, cleanup)
	}
	unary := func(ctx context.Context, payload string) error {
		out, err := stdInvoke[string](ctx, hc, invokeURL, "echo", payload)
		if err != nil {
			return err
		}
		return echoed(out, payload)
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
			want, _ := json.Marshal(payload) // each NDJSON line is the item's JSON
			return ndjsonStream(ctx, hc, addr+"/rpc/echo@1.0.0/repeat", []any{payload, count}, func(line []byte) error {
				if bytes.HasPrefix(line, []byte("{")) {
					return errors.New("stream error")
				}
				return echoed(line, string(want))
			})
		},
		conns:   c.Conc,
		cleanup: cleanup,
	}, nil
}

// httpStructured calls the message and list families: unary through
// /netron/invoke, streams through the method's JSON route (NDJSON).
func httpStructured(c caseSpec, addr string, hc *http.Client, titanClient bool, cleanup func()) (*bench, error) {
	method, stream := "user", "repeatUser"
	var arg any = theUser
	check := func(body []byte) error {
		var u User
		if err := json.Unmarshal(body, &u); err != nil {
			return err
		}
		return sameUser(u, theUser)
	}
	if c.Family == familyList {
		method, stream, arg = "page", "repeatPage", thePage
		check = func(body []byte) error {
			var p Page
			if err := json.Unmarshal(body, &p); err != nil {
				return err
			}
			return samePage(p, thePage)
		}
	}
	b := &bench{conns: c.Conc, cleanup: cleanup}
	if titanClient {
		tc, err := httptransport.NewClient(addr, httptransport.WithHTTPClient(hc))
		if err != nil {
			return nil, err
		}
		if c.Family == familyList {
			b.unary = func(ctx context.Context, _ string) error {
				out, err := httptransport.CallUnary[Page](ctx, tc, "echo@1.0.0", method, thePage)
				if err != nil {
					return err
				}
				return samePage(out, thePage)
			}
		} else {
			b.unary = func(ctx context.Context, _ string) error {
				out, err := httptransport.CallUnary[User](ctx, tc, "echo@1.0.0", method, theUser)
				if err != nil {
					return err
				}
				return sameUser(out, theUser)
			}
		}
	} else {
		b.unary = func(ctx context.Context, _ string) error {
			out, err := stdInvoke[json.RawMessage](ctx, hc, addr+"/netron/invoke", method, arg)
			if err != nil {
				return err
			}
			return check(out)
		}
	}
	b.stream = func(ctx context.Context, _ string, count int) (int, error) {
		return ndjsonStream(ctx, hc, addr+"/rpc/echo@1.0.0/"+stream, []any{arg, count}, check)
	}
	return b, nil
}

// stdInvoke calls a method of echo@1.0.0 with one argument through
// POST /netron/invoke, with net/http and encoding/json alone, and decodes
// the answer's data into a T.
func stdInvoke[T any](ctx context.Context, hc *http.Client, url, method string, arg any) (T, error) {
	var out struct {
		Success bool `json:"success"`
		Data    T    `json:"data"`
	}
	body, _ := json.Marshal(map[string]any{"id": "1", "version": "1.0", "service": "echo@1.0.0", "method": method, "input": []any{arg}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return out.Data, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return out.Data, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out.Data, err
	}
	if !out.Success {
		return out.Data, fmt.Errorf("bad answer (status %d)", resp.StatusCode)
	}
	return out.Data, nil
}

// ndjsonStream posts args to a method's JSON route asking for NDJSON and
// counts the lines, each checked. An answer other than 200 is an error,
// whatever its body holds.
func ndjsonStream(ctx context.Context, hc *http.Client, url string, args []any, check func([]byte) error) (int, error) {
	body, _ := json.Marshal(args)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		_, _ = io.Copy(io.Discard, resp.Body)
		return 0, fmt.Errorf("stream answered with status %d (%s)", resp.StatusCode, b)
	}
	// The scanner starts small and grows to the longest line: a buffer of
	// 64 KiB per stream made up most of the bytes the rows allocated per
	// message, a cost of this client, not of the gateway.
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4<<10), 4<<20)
	got := 0
	for sc.Scan() {
		if err := check(sc.Bytes()); err != nil {
			return got, fmt.Errorf("stream item: %w (%.200s)", err, sc.Text())
		}
		got++
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return got, sc.Err()
}
