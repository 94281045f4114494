package http

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/titanframework/titan/internal/jsonwalk"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// entry is the registry entry of http:// and https://: Netron.Listen opens
// the gateway through it (netron.GatewayOpener), and netron.Dial calls
// through a [Client] (netron.CallDialer), so that one client API serves
// every scheme.
type entry struct{ scheme string }

var (
	_ netron.GatewayOpener = entry{}
	_ netron.CallDialer    = entry{}
)

func (e entry) Name() string                         { return e.scheme + " gateway" }
func (e entry) Schemes() []string                    { return []string{e.scheme} }
func (e entry) Capabilities() transport.Capabilities { return transport.Capabilities{} }

// SecureScheme reports https:// secure, so that netron.Dial gives its
// client the Netron's client TLS configuration (WithTLS).
func (e entry) SecureScheme(scheme string) bool { return scheme == "https" }

func (e entry) OpenGateway(ctx context.Context, n netron.Engine, u *url.URL) (netron.Gateway, error) {
	return factory(ctx, n, u)
}

func (e entry) Listen(context.Context, *url.URL, transport.Options) (transport.Listener, error) {
	return nil, fmt.Errorf("transport: %s:// is served by the HTTP gateway above the engine, not by a byte transport: listen with netron.Netron.Listen", e.scheme)
}

func (e entry) Dial(context.Context, *url.URL, transport.Options) (transport.Conn, error) {
	return nil, fmt.Errorf("transport: %s:// carries calls, not packets: dial it with netron.Dial", e.scheme)
}

// DialCalls returns a [Client] of the server at addr as a
// [netron.CallConn]: unary calls over POST /netron/invoke, streams over the
// method's JSON route as Server-Sent Events, definitions from GET
// /netron/definition/<target>. The client's TLS configuration (for
// https://) is the Netron's, unless a WithHTTPClient option gives a
// client of its own; this package's client options given to netron.Dial
// apply. Nothing is sent until the first call.
func (e entry) DialCalls(ctx context.Context, addr string, o netron.CallDialOptions) (netron.CallConn, error) {
	c, err := newClient(addr, o)
	if err != nil {
		return nil, err
	}
	return callConn{c}, nil
}

// callConn is a Client seen as a netron.CallConn.
type callConn struct{ c *Client }

func (cc callConn) Invoke(ctx context.Context, target, method string, args []any) (protocol.RawValue, error) {
	raw, buf, err := cc.c.call(ctx, target, method, args)
	defer putBuf(buf)
	if err != nil || raw == nil {
		return nil, err
	}
	return bytes.Clone(raw), nil // buf goes back to the pool
}

func (cc callConn) Stream(ctx context.Context, target, method string, args []any) (netron.ItemReader, error) {
	return cc.c.Stream(ctx, target, method, args...)
}

func (cc callConn) Definition(ctx context.Context, target string) (*protocol.Definition, error) {
	return cc.c.Definition(ctx, target)
}

func (cc callConn) Services(ctx context.Context) ([]netron.ServiceInfo, error) {
	return cc.c.Services(ctx)
}

func (cc callConn) RemoteAddr() string { return cc.c.base.String() }
func (cc callConn) Close() error       { return cc.c.Close() }

// Stream calls the stream method of service through its JSON route, POST
// /rpc/<service>/<method>, and reads the items as Server-Sent Events as
// they come. ctx bounds the whole stream; close the reader to stop early
// (the gateway stops the method when the request ends). A stream that
// ends without the gateway's end event (the connection was cut) ends with
// an unavailable error, never as if it were complete.
func (c *Client) Stream(ctx context.Context, service, method string, args ...any) (netron.ItemReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, netron.NewError(netron.CodeOf(err), err)
	}
	body := []byte{'['}
	for i, a := range args {
		if i > 0 {
			body = append(body, ',')
		}
		var err error
		if body, err = protocol.AppendValueJSON(body, a); err != nil {
			return nil, netron.NewError(netron.CodeInvalidArgument, fmt.Errorf("encode the arguments of %s.%s: argument %d: %w", service, method, i+1, err))
		}
	}
	body = append(body, ']')
	u := c.base.JoinPath("rpc", service, method)
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
	}
	sctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(sctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, netron.NewError(netron.CodeInvalidArgument, err)
	}
	req.Header = c.requestHeader(ctx)
	req.Header["Accept"] = []string{"text/event-stream"}
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel()
		return nil, sendError(ctx, err)
	}
	if resp.StatusCode/100 != 2 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		defer cancel()
		defer resp.Body.Close()
		b, err := readAll(nil, io.LimitReader(resp.Body, c.maxBody+1))
		if err != nil {
			return nil, sendError(ctx, fmt.Errorf("read the answer: %w", err))
		}
		if resp.StatusCode/100 == 2 {
			return nil, netron.Errorf(netron.CodeInvalidArgument, "%s.%s is not a stream method", service, method)
		}
		if int64(len(b)) > c.maxBody { // not decoded cut at the limit
			return nil, c.tooLarge(max(int64(len(b)), resp.ContentLength))
		}
		_, err = decodeAnswer(resp.StatusCode, resp.Header.Get("X-Titan-Code"), b)
		return nil, err
	}
	return &sseReader{ctx: ctx, cancel: cancel, body: resp.Body, rd: bufio.NewReaderSize(resp.Body, 4096), max: c.maxBody}, nil
}

// sseReader reads the events of a stream answered as Server-Sent Events:
// "data: <json>" per item, "event: end" after the last one, "event: error"
// with the error body when the method failed.
type sseReader struct {
	ctx    context.Context
	cancel context.CancelFunc
	body   io.ReadCloser
	rd     *bufio.Reader
	max    int64
	line   []byte // a line longer than the reader's buffer, gathered
	item   []byte // the current item's MessagePack
	err    error  // the end: io.EOF or the stream's error
	once   sync.Once
}

func (r *sseReader) Next() (protocol.RawValue, error) {
	if r.err != nil {
		return nil, r.err
	}
	event := ""
	for {
		line, err := r.readLine()
		if err != nil {
			return nil, r.fail(err)
		}
		switch {
		case len(line) == 0: // the end of an event without data
			event = ""
		case bytes.HasPrefix(line, []byte("event:")):
			event = string(sseValue(line[len("event:"):]))
		case bytes.HasPrefix(line, []byte("data:")):
			data := sseValue(line[len("data:"):])
			switch event {
			case "":
				item, err := protocol.AppendJSONDepth(r.item[:0], data, protocol.DefaultMaxDepth)
				if err != nil {
					return nil, r.fail(netron.NewError(netron.CodeInternal, fmt.Errorf("stream item: %w", err)))
				}
				r.item = item
				return item, nil
			case "end":
				r.finishBody()
				return nil, r.fail(io.EOF)
			case "error":
				err := streamError(data)
				r.finishBody()
				return nil, r.fail(err)
			}
		}
		// comments (":") and fields this reader does not use are skipped
	}
}

// sseValue is a field's value, what follows its name and colon on its
// line, with one leading space removed, as the Server-Sent Events format
// reads it (and no other white space: "event:\fend" is not the end).
func sseValue(b []byte) []byte { return bytes.TrimPrefix(b, []byte(" ")) }

// readLine returns the next line without its end, bounded by the
// client's response size limit.
func (r *sseReader) readLine() ([]byte, error) {
	line, err := r.rd.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.line = append(r.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if int64(len(r.line)) > r.max {
				return nil, netron.NewError(netron.CodeResourceExhausted, fmt.Errorf("a stream item of more than %d bytes exceeds the limit (WithMaxResponseSize)", r.max))
			}
			line, err = r.rd.ReadSlice('\n')
			r.line = append(r.line, line...)
		}
		line = r.line
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = netron.NewError(netron.CodeUnavailable, errors.New("the stream was cut before its end"))
		}
		if cerr := r.ctx.Err(); cerr != nil {
			err = netron.NewError(netron.CodeOf(cerr), cerr)
		}
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// finishBody reads what is left of the answer after the stream's last
// event, up to drainLimit bytes and for drainWait at most: a body closed
// before its end closes its connection, which the client's next call
// would have reused.
func (r *sseReader) finishBody() {
	t := time.AfterFunc(drainWait, r.cancel)
	_, _ = io.CopyN(io.Discard, r.rd, drainLimit)
	t.Stop()
}

const (
	drainLimit = 4 << 10
	drainWait  = 250 * time.Millisecond
)

// fail ends the reader with err and releases the response.
func (r *sseReader) fail(err error) error {
	var ne *netron.Error
	if !errors.Is(err, io.EOF) && !errors.As(err, &ne) {
		err = sendError(r.ctx, err)
	}
	r.err = err
	r.release()
	return err
}

func (r *sseReader) Close() error {
	if r.err == nil {
		r.err = netron.NewError(netron.CodeCanceled, errors.New("stream closed by the reader before its end"))
	}
	r.release()
	return nil
}

func (r *sseReader) release() {
	r.once.Do(func() {
		r.cancel()
		_ = r.body.Close()
	})
}

// streamError converts the body of an "event: error" ({"id","success":
// false,"error":{…}}), whose error object also names the Go code
// ("goCode"): a stream's failure comes after the headers, where
// X-Titan-Code cannot go.
func streamError(body []byte) error {
	var obj []byte
	if jsonwalk.Valid(body) {
		jsonwalk.Members(body, func(key, value []byte) bool {
			if jsonwalk.View(key) == "error" && len(value) > 0 && value[0] == '{' {
				obj = value
			}
			return true
		})
	}
	if obj == nil {
		return netron.NewError(netron.CodeInternal, fmt.Errorf("the stream ended with an error event that is not an error body: %q", excerpt(body)))
	}
	goCode := ""
	jsonwalk.Members(obj, func(key, value []byte) bool {
		if jsonwalk.View(key) == "goCode" && value[0] == '"' {
			goCode = jsonwalk.Unquote(value)
		}
		return true
	})
	return answerError(http.StatusOK, goCode, obj)
}

// Services lists the services the gateway exposes, from GET /discover.
func (c *Client) Services(ctx context.Context) ([]netron.ServiceInfo, error) {
	b, status, goCode, err := c.get(ctx, "discover")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		_, err := decodeAnswer(status, goCode, b)
		if err == nil {
			err = statusError(status, goCode)
		}
		return nil, err
	}
	var doc struct {
		Services []netron.ServiceInfo `json:"services"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, netron.NewError(netron.CodeInternal, fmt.Errorf("the answer of GET /discover: %w", err))
	}
	return doc.Services, nil
}

// get answers GET base/<path...> with the body read within the response
// size limit, the status and the X-Titan-Code header.
func (c *Client) get(ctx context.Context, path ...string) (body []byte, status int, goCode string, err error) {
	u := c.base.JoinPath(path...)
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, "", netron.NewError(netron.CodeInvalidArgument, err)
	}
	req.Header = c.requestHeader(ctx)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, "", sendError(ctx, err)
	}
	defer resp.Body.Close()
	b, err := readAll(nil, io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, 0, "", sendError(ctx, fmt.Errorf("read the answer: %w", err))
	}
	if int64(len(b)) > c.maxBody {
		return nil, 0, "", c.tooLarge(int64(len(b)))
	}
	return b, resp.StatusCode, resp.Header.Get("X-Titan-Code"), nil
}

// Definition returns the definition of target's service (a name@version,
// a range or a bare name) from GET /netron/definition/<target>, as the
// query_interface task gives it over packets.
func (c *Client) Definition(ctx context.Context, target string) (*protocol.Definition, error) {
	b, status, goCode, err := c.get(ctx, "netron", "definition", target)
	if err != nil {
		return nil, err
	}
	raw, err := decodeAnswer(status, goCode, b)
	if err != nil {
		return nil, err
	}
	v, err := protocol.DecodeValue(raw, resultLimits)
	if err != nil {
		return nil, netron.NewError(netron.CodeInternal, fmt.Errorf("the definition: %w", err))
	}
	o, _ := v.(protocol.Object)
	id, _ := o.Get("id")
	meta, _ := o.Get("meta")
	ids, _ := id.(string)
	if ids == "" || meta == nil {
		return nil, netron.NewError(netron.CodeInternal, fmt.Errorf("the answer of GET /netron/definition/%s is not a definition", target))
	}
	def := &protocol.Definition{ID: ids, Meta: meta}
	if peer, ok := o.Get("peerId"); ok {
		def.PeerID, _ = peer.(string)
	}
	return def, nil
}

// serveDefinition answers GET /netron/definition/<target> with
// {"id","success":true,"data":{"id","peerId","meta"}}: the definition
// query_interface gives over packets, for Go clients over HTTP
// (netron.Dial("http://…") checks bound clients against it).
func (h *Handler) serveDefinition(w http.ResponseWriter, r *http.Request, target string) {
	if t, err := url.PathUnescape(target); err == nil {
		target = t
	}
	def, err := h.n.DefinitionFor(r.Context(), target, h.cfg.scheme)
	if err != nil {
		writeError(w, requestID(r), invocationError(err), true)
		return
	}
	b := append(make([]byte, 0, 512), `{"id":`...)
	b = protocol.AppendJSONString(b, requestID(r))
	b = append(b, `,"success":true,"data":{"id":`...)
	b = protocol.AppendJSONString(b, def.ID)
	b = append(b, `,"peerId":`...)
	b = protocol.AppendJSONString(b, def.PeerID)
	b = append(b, `,"meta":`...)
	b, err = protocol.AppendValueJSON(b, def.Meta)
	if err != nil {
		h.log.Error("a definition is not encodable as JSON", "target", target, "error", err)
		writeError(w, requestID(r), invocationError(netron.Errorf(netron.CodeInternal, "internal error")), true)
		return
	}
	b = append(b, "}}"...)
	hd := w.Header()
	hd["Content-Type"] = jsonContentType
	hd["Cache-Control"] = noStore
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
