package http

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// HTTPStatus returns the HTTP status a gateway answers for an error code:
// the code's Netron wire code ([netron.Code.WireCode]), which is an HTTP
// status for every code but unknown (601, answered 500) — the original maps
// TitanError codes to HTTP the same way (NETRON-WIRE.md §11.4):
//
//	invalid_argument, out_of_range  400    resource_exhausted  429
//	unauthenticated                 401    canceled            499
//	permission_denied               403    internal, data_loss 500
//	not_found                       404    unknown             500
//	deadline_exceeded               408    unimplemented       501
//	already_exists, aborted         409    unavailable         503
//	failed_precondition             412
func HTTPStatus(c netron.Code) int {
	w := c.WireCode()
	if w < 400 || w > 599 {
		return http.StatusInternalServerError
	}
	return w
}

// apiError is an error as the HTTP protocol sends it (NETRON-WIRE.md §11.4).
type apiError struct {
	status  int
	code    string // the body's error.code: details.errorCode or the status
	message string
	details any         // a JSON-like value; nil is sent as {}
	goCode  netron.Code // sent in X-Titan-Code
	// traceID and spanID are the server span's, sent as X-Trace-ID and
	// X-Span-ID (NETRON-WIRE.md §11.4) when the call was traced.
	traceID, spanID string
}

// requestError is a request-level error: malformed request, unknown route,
// body too large, ...
func requestError(c netron.Code, status int, message string) *apiError {
	return &apiError{status: status, code: strconv.Itoa(status), message: message, goCode: c}
}

// invocationError converts an error of a call into its HTTP form.
func invocationError(err error) *apiError {
	c := netron.CodeOf(err)
	e := &apiError{status: HTTPStatus(c), message: err.Error(), goCode: c}
	var ne *netron.Error
	if errors.As(err, &ne) {
		e.message = netron.MessageOf(err)
		e.details = ne.Details()
	}
	e.traceID, e.spanID = netron.TraceOf(err)
	e.code = strconv.Itoa(e.status)
	if ec, ok := errorCodeDetail(e.details); ok {
		e.code = ec
	}
	return e
}

// errorCodeDetail returns details.errorCode when it is a non-empty string:
// the original sends an error's string code there and in error.code.
func errorCodeDetail(details any) (string, bool) {
	var v any
	switch d := details.(type) {
	case protocol.Object:
		v, _ = d.Get("errorCode")
	case map[string]any:
		v = d["errorCode"]
	case map[string]string:
		v = d["errorCode"]
	}
	s, ok := v.(string)
	return s, ok && s != ""
}

// appendErrorObject appends {"code","message","details"}; withDetails false
// leaves details out (batch items carry code and message only).
func appendErrorObject(dst []byte, e *apiError, withDetails bool) []byte {
	dst = append(dst, `{"code":`...)
	dst = protocol.AppendJSONString(dst, e.code)
	dst = append(dst, `,"message":`...)
	dst = protocol.AppendJSONString(dst, e.message)
	if withDetails {
		dst = append(dst, `,"details":`...)
		if e.details == nil {
			dst = append(dst, "{}"...)
		} else {
			b, err := protocol.AppendValueJSON(dst, e.details)
			if err != nil {
				b = append(dst, "{}"...)
			}
			dst = b
		}
	}
	return append(dst, '}')
}

// appendErrorBody appends {"id","success":false,"error":{…}}.
func appendErrorBody(dst []byte, id string, e *apiError) []byte {
	dst = append(dst, `{"id":`...)
	dst = protocol.AppendJSONString(dst, id)
	dst = append(dst, `,"success":false,"error":`...)
	dst = appendErrorObject(dst, e, true)
	return append(dst, '}')
}

// appendStreamErrorBody is appendErrorBody for the error that ends a
// stream already under way, with the code's Go name as error.goCode:
// the headers, where X-Titan-Code goes, are sent. TypeScript clients
// ignore the member.
func appendStreamErrorBody(dst []byte, id string, e *apiError) []byte {
	dst = appendErrorBody(dst, id, e)
	dst = dst[:len(dst)-2] // the error object's "}" and the body's
	dst = append(dst, `,"goCode":`...)
	dst = protocol.AppendJSONString(dst, e.goCode.String())
	return append(dst, "}}"...)
}

// writeError answers e. A request-level error (requestID true) also
// carries X-Request-ID, whose value is the body's id.
func writeError(w http.ResponseWriter, id string, e *apiError, requestID bool) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Titan-Code", e.goCode.String())
	if requestID {
		h.Set("X-Request-ID", id)
	}
	if e.traceID != "" {
		h.Set("X-Trace-ID", e.traceID)
		h.Set("X-Span-ID", e.spanID)
	}
	if e.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", "Bearer")
	}
	if e.status == http.StatusTooManyRequests {
		if s, ok := retryAfter(e.details); ok {
			h.Set("Retry-After", s)
		}
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(appendErrorBody(nil, id, e))
}

// retryAfter returns the Retry-After value (whole seconds, rounded up) of
// an error whose details say when to retry: details.retryAfter, in
// milliseconds, as the security module's rate limits send it.
func retryAfter(details any) (string, bool) {
	d, ok := details.(protocol.Object)
	if !ok {
		return "", false
	}
	v, ok := d.Get("retryAfter")
	if !ok {
		return "", false
	}
	var ms int64
	switch n := v.(type) {
	case int64:
		ms = n
	case int:
		ms = int64(n)
	case float64:
		if !(n > 0) { // NaN too
			return "", false
		}
		ms = int64(min(n, 1<<53)) // a float beyond int64 has no defined conversion
	case uint64:
		ms = int64(min(n, 1<<53))
	default:
		return "", false
	}
	if ms <= 0 {
		return "", false
	}
	s := ms / 1000 // whole seconds, rounded up; ms+999 could overflow
	if ms%1000 != 0 {
		s++
	}
	return strconv.FormatInt(s, 10), true
}
