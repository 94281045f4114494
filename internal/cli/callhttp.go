package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// isHTTP reports whether addr is an http:// or https:// address, served by
// a Netron HTTP gateway rather than a packet transport.
func isHTTP(addr string) bool {
	return strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://")
}

// callHTTP calls a method through a Netron HTTP gateway's JSON route
// POST /rpc/<target>/<method>, with the arguments as a JSON array; a stream
// is read as NDJSON, one value per line.
func callHTTP(parent context.Context, remote *remoteFlags, out *jsonWriter, addr, target, method string, args []any) error {
	ctx, cancel := remote.context(parent, true)
	defer cancel()
	jargs := make([]any, len(args))
	for i, a := range args {
		v, err := protocol.ToJSON(a)
		if err != nil {
			return &usageError{fmt.Errorf("argument %d: %w", i+1, err)}
		}
		jargs[i] = v
	}
	body, err := json.Marshal(jargs)
	if err != nil {
		return &usageError{err}
	}
	u := strings.TrimSuffix(addr, "/") + "/rpc/" + url.PathEscape(target) + "/" + url.PathEscape(method)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return &usageError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/x-ndjson, application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return failure(ctx, netron.Errorf(netron.CodeUnavailable, "%v", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return failure(ctx, httpError(resp))
	}
	if resp.StatusCode == http.StatusNoContent {
		return nil // void
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			v, err := decodeJSON(sc.Bytes())
			if err != nil {
				return failure(ctx, err)
			}
			if o, ok := v.(protocol.Object); ok && len(o) > 0 && o[0].Key == "code" {
				if m, ok := o.Get("message"); ok { // an error ends the stream
					return failure(ctx, netron.Errorf(netron.CodeUnknown, "%v", m))
				}
			}
			if err := out.write(ctx, v); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return failure(ctx, netron.Errorf(netron.CodeUnavailable, "reading the stream: %v", err))
		}
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return failure(ctx, netron.Errorf(netron.CodeUnavailable, "%v", err))
	}
	v, err := decodeJSON(b)
	if err != nil {
		return failure(ctx, err)
	}
	return out.write(ctx, v)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, netron.Errorf(netron.CodeInternal, "the answer is not JSON: %v", err)
	}
	return protocol.FromJSON(v)
}

// httpError rebuilds the error of a gateway's error answer: its code from
// X-Titan-Code (else from the status), its message from the body.
func httpError(resp *http.Response) error {
	var body struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = json.Unmarshal(b, &body)
	msg := body.Message
	if msg == "" {
		msg = body.Error.Message
	}
	if msg == "" {
		msg = strings.TrimSpace(string(b))
	}
	code, ok := netron.CodeOfName(resp.Header.Get("X-Titan-Code"))
	if !ok {
		code = netron.CodeOfWire(resp.StatusCode)
	}
	return netron.NewError(code, fmt.Errorf("%s", msg))
}
