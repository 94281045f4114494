package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/titanframework/titan/internal/jsonwalk"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Client calls services from Go through an HTTP server's POST
// /netron/invoke (NETRON-WIRE.md §11.2), as netron-browser's HttpClient
// does from TypeScript: a Titan gateway answers it, and so does the
// original TypeScript server. Use it where only HTTP gets through; over
// tcp://, unix:// or ws:// a [netron.Peer] is faster and carries streams,
// events and server-to-client calls, which HTTP does not.
//
// Arguments and results take the JSON mapping of §11.1 both ways, the one
// the gateway reads and writes (a []byte travels as {"type":"Buffer",
// "data":[…]}, a time.Time as an ISO-8601 string, struct fields in their
// order). A stream method's items come back drained into an array (at most
// 10000 on a Titan gateway): decode them into a slice.
//
// An error comes back as a [*netron.Error] with the server's message and
// details; its code is the one the method returned when the server is a
// Titan gateway (it names the code in the X-Titan-Code header), else the
// code of the HTTP status ([netron.CodeOfWire]). A call that never got an
// answer is unavailable, or canceled / deadline_exceeded when its context
// ended it. The context's deadline also travels as hints.timeout, so the
// server gives up when the caller does (or before, at its own timeout).
//
// A Client is safe for concurrent use. HTTP/1.1 carries one call at a time
// per connection, so its [http.Client] keeps a connection per concurrent
// call: make one Client per server and reuse it.
type Client struct {
	hc       *http.Client
	ownHC    bool        // hc was made here: Close closes its idle connections
	base     *url.URL    // the server's URL with its path prefix
	url      *url.URL    // base + /netron/invoke
	header   http.Header // copied into every request
	maxBody  int64
	idPrefix string
	ids      atomic.Uint64
}

// ClientOption configures a [Client].
//
// Deprecated: use netron.ClientOption, the one option type of the client
// scope, which [NewClient] takes.
type ClientOption = netron.ClientOption

// clientConfig is what this package's client options record for the
// connection a client dials (netron.WithDialValue under clientKey).
type clientConfig struct {
	hc      *http.Client
	header  http.Header
	maxBody int64
}

// clientKey is the key of the clientConfig among the dial values.
type clientKey struct{}

// clientValue returns a client option described by desc that changes the
// clientConfig recorded so far with fn.
func clientValue(desc string, fn func(*clientConfig) error) netron.ClientOption {
	return netron.WithDialValue(desc, clientKey{}, func(old any) (any, error) {
		var c clientConfig
		if o, ok := old.(*clientConfig); ok {
			c = *o
			c.header = o.header.Clone()
		}
		if err := fn(&c); err != nil {
			return old, err
		}
		return &c, nil
	})
}

// DefaultClientConns is how many idle connections to one server a
// [Client] keeps for reuse when no [WithHTTPClient] is given: callers beyond
// it still get connections, which close after their call.
const DefaultClientConns = 100

// WithHTTPClient sends the calls through hc, for its transport (TLS
// settings, proxies, connection limits, instrumentation) and timeout. hc's
// redirects are not followed for calls (a POST must reach the gateway
// itself). Without it the Client has its own transport, a copy of
// [http.DefaultTransport] keeping [DefaultClientConns] idle connections
// (with the client TLS configuration of netron.WithTLS). It is a client
// option of [NewClient] and of netron.Dial at an http:// or https://
// address.
func WithHTTPClient(hc *http.Client) netron.ClientOption {
	desc := "WithHTTPClient(…)"
	if hc == nil {
		desc = "WithHTTPClient(nil)"
	}
	return clientValue(desc, func(c *clientConfig) error {
		if hc == nil {
			return errors.New("give an *http.Client, not nil")
		}
		c.hc = hc
		return nil
	})
}

// WithBearerToken sends Authorization: Bearer token with every call, the
// credential the gateway's security interceptors read (a JWT).
//
// Deprecated: use netron.WithBearerToken, which every client takes (the
// same option).
func WithBearerToken(token string) netron.ClientOption { return netron.WithBearerToken(token) }

// WithHeader adds a header to every call (repeat it for more values). It
// is a client option of [NewClient] and of netron.Dial at an http:// or
// https:// address.
func WithHeader(key, value string) netron.ClientOption {
	return clientValue(fmt.Sprintf("WithHeader(%q)", key), func(c *clientConfig) error {
		if !httpguts.ValidHeaderFieldName(key) || !httpguts.ValidHeaderFieldValue(value) {
			return fmt.Errorf("not a valid header (name %q, value of %d bytes)", key, len(value))
		}
		if c.header == nil {
			c.header = http.Header{}
		}
		c.header.Add(key, value)
		return nil
	})
}

// WithMaxResponseSize sets the largest response body the Client reads, in
// bytes (default [DefaultMaxBodySize], the gateway's own limit for
// requests); a larger one fails the call with resource_exhausted. It is a
// client option of [NewClient] and of netron.Dial at an http:// or
// https:// address.
func WithMaxResponseSize(n int64) netron.ClientOption {
	return clientValue(fmt.Sprintf("WithMaxResponseSize(%d)", n), func(c *clientConfig) error {
		if n <= 0 {
			return fmt.Errorf("the size must be positive, not %d", n)
		}
		c.maxBody = n
		return nil
	})
}

// NewClient returns a Client of the server at base, an http:// or
// https:// URL with an optional path prefix ("https://api.example/v1"
// posts to https://api.example/v1/netron/invoke, for a gateway with
// [WithPathPrefix]). It takes the client options that need no Netron:
// this package's ([WithHTTPClient], [WithHeader], [WithMaxResponseSize]),
// netron.WithBearerToken, netron.WithTLS (its client configuration, for
// https://) and netron.WithLogger; it refuses the others, naming them
// (interceptors need netron.Dial("http://…"), which calls through a
// Client too).
func NewClient(base string, opts ...netron.ClientOption) (*Client, error) {
	o, err := netron.CallDialOptionsOf(opts...)
	if err != nil {
		return nil, fmt.Errorf("httptransport: client of %q: %w", base, err)
	}
	return newClient(base, o)
}

// newClient returns a Client of base with o, the options NewClient was
// given or those netron.Dial gives a call door.
func newClient(base string, o netron.CallDialOptions) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("httptransport: client of %q: %w", base, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("httptransport: client of %q: want http://host[:port][/prefix] or https://…", base)
	}
	cfg := clientConfig{maxBody: DefaultMaxBodySize}
	if v, ok := o.Value(clientKey{}).(*clientConfig); ok {
		cfg.hc, cfg.header = v.hc, v.header
		if v.maxBody > 0 {
			cfg.maxBody = v.maxBody
		}
	}
	header := http.Header{
		"Content-Type":  {"application/json"},
		"Accept":        {"application/json"},
		TitanPeerHeader: {"1"},
	}
	for k, vs := range cfg.header {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	if v, ok := o.Metadata["authorization"]; ok {
		header.Set("Authorization", v)
	}
	c := &Client{
		hc:       cfg.hc,
		base:     u,
		url:      u.JoinPath("netron", "invoke"),
		header:   header,
		maxBody:  cfg.maxBody,
		idPrefix: strconv.FormatUint(rand.Uint64()>>16, 36) + "-",
	}
	if !strings.HasPrefix(c.url.Path, "/") { // JoinPath keeps an empty path relative
		c.url.Path = "/" + c.url.Path
		if c.url.RawPath != "" {
			c.url.RawPath = "/" + c.url.RawPath
		}
	}
	if c.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = DefaultClientConns
		if o.TLS != nil {
			tr.TLSClientConfig = o.TLS.Clone()
		} else if u.Scheme == "https" {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		c.hc, c.ownHC = &http.Client{Transport: tr}, true
	}
	// A call is one POST: a redirect is an answer, not a place to go.
	hc := *c.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = &hc
	return c, nil
}

// Close closes the idle connections of the Client's own transport (not
// those of a [WithHTTPClient] client). Calls may still be made; they open
// new connections.
func (c *Client) Close() error {
	if c.ownHC {
		c.hc.CloseIdleConnections()
	}
	return nil
}

// Invoke calls method of service (a name@version, a bare name or a range,
// as the gateway resolves it) with args and decodes the result into out, a
// pointer; a nil out discards the result. A void method leaves out as it
// is. *protocol.RawValue receives the result's MessagePack encoding, and
// *any its generic value ([protocol.Object] for an object).
func (c *Client) Invoke(ctx context.Context, out any, service, method string, args ...any) error {
	raw, buf, err := c.call(ctx, service, method, args)
	defer putBuf(buf)
	if err != nil || raw == nil || out == nil {
		return err
	}
	if rv, ok := out.(*protocol.RawValue); ok {
		*rv = bytes.Clone(raw)
		return nil
	}
	if err := protocol.UnmarshalLimits(raw, out, resultLimits); err != nil {
		return netron.NewError(netron.CodeInternal, fmt.Errorf("decode result: %w", err))
	}
	return nil
}

// CallUnary calls method of service through c, as [Client.Invoke] does,
// and decodes its result into a T (the zero T for a void method).
func CallUnary[T any](ctx context.Context, c *Client, service, method string, args ...any) (T, error) {
	raw, buf, err := c.call(ctx, service, method, args)
	defer putBuf(buf)
	var out T
	if err != nil || raw == nil {
		return out, err
	}
	if ok, err := protocol.UnmarshalScalar(raw, &out, resultLimits); ok {
		if err != nil {
			return out, netron.NewError(netron.CodeInternal, fmt.Errorf("decode result: %w", err))
		}
		return out, nil
	}
	var general T // escapes to the decoder: allocated on this path only
	if err := protocol.UnmarshalLimits(raw, &general, resultLimits); err != nil {
		return general, netron.NewError(netron.CodeInternal, fmt.Errorf("decode result: %w", err))
	}
	return general, nil
}

// resultLimits bound the decoding of a result: its size is already bounded
// by the response size limit (MessagePack of JSON text is at most a small
// multiple of it), its nesting by AppendJSON.
var resultLimits = protocol.Limits{MaxFrameSize: math.MaxInt}

// call makes one call and returns the MessagePack of its result (nil for a
// void method), held in buf until the caller puts buf back.
func (c *Client) call(ctx context.Context, service, method string, args []any) (raw []byte, buf *[]byte, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, netron.NewError(netron.CodeOf(err), err)
	}
	size := 96 + len(service) + len(method)
	for _, a := range args { // room for string arguments, the common large ones
		if s, ok := a.(string); ok {
			size += len(s) + 2
		}
	}
	body, err := c.appendRequest(make([]byte, 0, size), ctx, service, method, args)
	if err != nil {
		return nil, nil, netron.NewError(netron.CodeInvalidArgument, fmt.Errorf("encode the arguments of %s.%s: %w", service, method, err))
	}
	req := (&http.Request{
		Method:     http.MethodPost,
		URL:        c.url,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     c.requestHeader(ctx),
		// A NopCloser of a bytes.Reader is a body net/http knows is in
		// memory: it sends the head and the body in one write.
		Body: io.NopCloser(bytes.NewReader(body)),
		// Lets the transport send the call again on another connection
		// when a reused one was found closed before anything was written.
		GetBody:       func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil },
		ContentLength: int64(len(body)),
		Host:          c.url.Host,
	}).WithContext(ctx)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, sendError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > c.maxBody {
		return nil, nil, c.tooLarge(resp.ContentLength)
	}
	buf = getBuf()
	b := *buf
	// Room for the answer (+ 1: the read that sees EOF) and after it for the
	// MessagePack of its data, which is rarely longer than its JSON.
	if n := 2*resp.ContentLength + 64; n > int64(cap(b)) {
		b = make([]byte, 0, min(n, maxPooled))
	}
	var rd io.Reader = resp.Body // net/http ends it at its Content-Length
	if resp.ContentLength < 0 {
		rd = io.LimitReader(resp.Body, c.maxBody+1)
	}
	b, err = readAll(b, rd)
	*buf = b
	if err != nil {
		return nil, buf, sendError(ctx, fmt.Errorf("read the answer: %w", err))
	}
	if int64(len(b)) > c.maxBody {
		return nil, buf, c.tooLarge(int64(len(b)))
	}
	// The result's MessagePack goes after the body in the same buffer.
	raw, err = decodeAnswer(resp.StatusCode, resp.Header.Get("X-Titan-Code"), b)
	if cap(raw) > cap(b) {
		*buf = raw[:0]
	}
	return raw, buf, err
}

// requestHeader returns the header of a request: the Client's values,
// shared but capped, so that a round tripper adding a value to a key
// copies it rather than writing into the next request's header.
//
// The outgoing metadata of ctx (netron.WithOutgoingMetadata) that has a
// header of its own on the gateway (authorization, x-request-id,
// traceparent, tracestate) is sent in it, over the Client's value.
func (c *Client) requestHeader(ctx context.Context) http.Header {
	h := make(http.Header, len(c.header)+1)
	for k, v := range c.header {
		h[k] = v[:len(v):len(v)]
	}
	if md := netron.OutgoingMetadata(ctx); md != nil {
		for _, k := range &metadataHeaders {
			if v, ok := md[k[1]]; ok {
				h[k[0]] = []string{v}
			}
		}
	}
	return h
}

func (c *Client) tooLarge(n int64) error {
	return netron.NewError(netron.CodeResourceExhausted, fmt.Errorf("answer of %d bytes exceeds the limit of %d (WithMaxResponseSize)", n, c.maxBody))
}

// appendRequest appends the invoke request (§11.2): a fresh id, the
// target, the arguments as the input array, and the context's deadline as
// hints.timeout in milliseconds.
func (c *Client) appendRequest(b []byte, ctx context.Context, service, method string, args []any) ([]byte, error) {
	b = append(b, `{"id":"`...)
	b = append(b, c.idPrefix...)
	b = strconv.AppendUint(b, c.ids.Add(1), 36)
	b = append(b, `","service":`...)
	b = protocol.AppendJSONString(b, service)
	b = append(b, `,"method":`...)
	b = protocol.AppendJSONString(b, method)
	b = append(b, `,"input":[`...)
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = protocol.AppendValueJSON(b, a); err != nil {
			return b, fmt.Errorf("argument %d: %w", i+1, err)
		}
	}
	b = append(b, ']')
	if dl, ok := ctx.Deadline(); ok {
		b = append(b, `,"hints":{"timeout":`...)
		b = strconv.AppendInt(b, max(time.Until(dl).Milliseconds(), 1), 10)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// sendError is the error of a call that got no answer: the context's when
// it ended the call, deadline_exceeded for a timeout, else unavailable.
func sendError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return netron.NewError(netron.CodeOf(cerr), err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return netron.NewError(netron.CodeDeadlineExceeded, err)
	}
	return netron.NewError(netron.CodeUnavailable, err)
}

// decodeAnswer reads the answer to an invoke request (§11.2, §11.4): the
// MessagePack of its data, appended to body's spare capacity (nil when
// the method is void), or its error. goCode is the X-Titan-Code header.
// Any bytes give a result or an error that names the problem.
func decodeAnswer(status int, goCode string, body []byte) ([]byte, error) {
	// The answer is checked but for its data, which the transcoder checks
	// as it reads it (one pass over the bulk of the answer, not two); an
	// answer whose data is not JSON is then not JSON (notJSON).
	_, outside := jsonwalk.ValidOutside(body, "data")
	if !outside && !jsonwalk.Valid(body) {
		return nil, notJSON(status, goCode, body)
	}
	if i := jsonwalk.Space(body, 0); i == len(body) || body[i] != '{' {
		return nil, notJSON(status, goCode, body)
	}
	var (
		success, hasSuccess bool
		data, errObj        []byte
	)
	jsonwalk.Members(body, func(key, value []byte) bool {
		switch jsonwalk.View(key) {
		case "success":
			hasSuccess, success = true, string(value) == "true"
		case "data":
			data = value
		case "error":
			errObj = value
		}
		return true
	})
	if outside && data != nil && !(success && status/100 == 2) && !jsonwalk.Valid(body) {
		return nil, notJSON(status, goCode, body) // data that is not transcoded is checked here
	}
	switch {
	case success && status/100 == 2:
		if data == nil { // a void method
			return nil, nil
		}
		raw, err := protocol.AppendJSONDepth(body[len(body):], data, protocol.DefaultMaxDepth)
		if err != nil {
			if !jsonwalk.Valid(body) {
				return nil, notJSON(status, goCode, body)
			}
			return nil, netron.NewError(netron.CodeInternal, fmt.Errorf("the answer's data: %w", err))
		}
		return raw, nil
	case len(errObj) > 0 && errObj[0] == '{':
		return nil, answerError(status, goCode, errObj)
	case !hasSuccess && status/100 == 2:
		return nil, netron.NewError(netron.CodeInternal, fmt.Errorf("the answer (HTTP %d) has no success member: %q", status, excerpt(body)))
	}
	return nil, statusError(status, goCode)
}

// notJSON is the error of an answer that is not a JSON object: its
// status's error, or, for a 2xx, an internal error quoting it.
func notJSON(status int, goCode string, body []byte) error {
	if status/100 != 2 {
		return statusError(status, goCode)
	}
	return netron.NewError(netron.CodeInternal, fmt.Errorf("the answer (HTTP %d) is not a JSON object: %q", status, excerpt(body)))
}

// answerError converts the error object of an answer, {"code","message",
// "details"}: the code by name from X-Titan-Code, else error.code when it
// is a number, else the status's.
func answerError(status int, goCode string, obj []byte) error {
	var wire, message string
	var details []byte
	jsonwalk.Members(obj, func(key, value []byte) bool {
		switch jsonwalk.View(key) {
		case "code":
			if value[0] == '"' {
				wire = jsonwalk.Unquote(value)
			} else {
				wire = string(value)
			}
		case "message":
			if value[0] == '"' {
				message = jsonwalk.Unquote(value)
			}
		case "details":
			details = value
		}
		return true
	})
	code, ok := netron.CodeOfName(goCode)
	if !ok {
		if n, err := strconv.Atoi(wire); err == nil {
			code = netron.CodeOfWire(n)
		} else {
			code = codeOfStatus(status)
		}
	}
	if message == "" {
		message = code.String()
	}
	e := netron.NewError(code, errors.New(message))
	if len(details) > 0 && details[0] == '{' && string(details) != "{}" {
		if raw, err := protocol.AppendJSONDepth(nil, details, protocol.DefaultMaxDepth); err == nil {
			if v, err := protocol.DecodeValue(raw, resultLimits); err == nil {
				e = e.WithDetails(v)
			}
		}
	}
	return e
}

// statusError is the error of an answer without an error object, as
// netron-browser makes it: "HTTP <status>: <status text>".
func statusError(status int, goCode string) error {
	code, ok := netron.CodeOfName(goCode)
	if !ok {
		code = codeOfStatus(status)
	}
	text := http.StatusText(status)
	if text == "" {
		text = "unknown status"
	}
	return netron.NewError(code, fmt.Errorf("HTTP %d: %s", status, text))
}

// codeOfStatus is the code of an HTTP error status; a status that is not
// an error (a 2xx or 3xx answer without the expected body) is internal.
func codeOfStatus(status int) netron.Code {
	if status < 400 {
		return netron.CodeInternal
	}
	return netron.CodeOfWire(status)
}

// excerpt is the start of an answer, for an error message.
func excerpt(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// bufPool holds the buffers answers are read into (client) or written in
// (gateway). Buffers larger than maxPooled are left to the collector.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooled = 128 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if b == nil || cap(*b) > maxPooled {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
