package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// http-raw is the ceiling of the HTTP/1.1 rows: net/http on both sides and
// nothing else, the payload's bytes posted and written back unchanged (no
// serialisation, no framework), one connection per caller as netron-http
// and connect-h1 have. What a row over HTTP/1.1 costs beyond it is its
// own; what it costs itself is net/http's, which every such row pays.
func init() {
	register("http-raw", system{setup: setupHTTPRaw,
		note: "net/http echo of the payload bytes, no serialisation, one connection per caller (HTTP/1.1 ceiling)"})
}

// httpBufs holds the request and answer bodies of http-raw's two sides,
// so that the ceiling does not pay an allocation per body that a
// framework could avoid.
var httpBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func setupHTTPRaw(c caseSpec) (*bench, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := httpBufs.Get().(*bytes.Buffer)
		defer httpBufs.Put(buf)
		buf.Reset()
		if _, err := buf.ReadFrom(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(buf.Bytes())
	})}
	go func() { _ = srv.Serve(ln) }()
	tr := &http.Transport{MaxIdleConnsPerHost: c.Conc, MaxConnsPerHost: c.Conc, DisableCompression: true}
	hc := &http.Client{Transport: tr}
	url := "http://" + ln.Addr().String() + "/echo"
	return &bench{
		unary: func(ctx context.Context, payload string) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payloadBytes(payload)))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/octet-stream")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			buf := httpBufs.Get().(*bytes.Buffer)
			defer httpBufs.Put(buf)
			buf.Reset()
			if _, err := buf.ReadFrom(resp.Body); err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d: %s", resp.StatusCode, buf.Bytes())
			}
			return echoed(buf.Bytes(), payload)
		},
		conns: c.Conc,
		cleanup: func() {
			tr.CloseIdleConnections()
			_ = srv.Close()
		},
	}, nil
}
