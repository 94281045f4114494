package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// serveAuthenticate answers POST /netron/authenticate (NETRON-WIRE.md
// §11.3): body {"id","credentials"} or {"id","params":[credentials]};
// 400 without credentials, 503 without an authenticator, otherwise always
// 200 {"id","result":<AuthResult>} (a failed authentication is
// result.success false).
func (h *Handler) serveAuthenticate(w http.ResponseWriter, r *http.Request) {
	body, held, aerr := h.readBody(w, r)
	if aerr != nil {
		writeError(w, requestID(r), aerr, true)
		return
	}
	// The credentials decoded from it are used until the answer.
	defer func() { h.bodies.release(held) }()
	var q struct {
		ID          any               `json:"id"`
		Credentials json.RawMessage   `json:"credentials"`
		Params      []json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &q); err != nil {
		msg := "Invalid request format"
		if _, ok := errors.AsType[*json.SyntaxError](err); ok {
			msg = "Invalid JSON: " + jsonProblem(err)
		}
		writeError(w, requestID(r), requestError(netron.CodeInvalidArgument, http.StatusBadRequest, msg), true)
		return
	}
	creds := q.Credentials
	if creds == nil && len(q.Params) > 0 {
		creds = q.Params[0]
	}
	if creds == nil || string(creds) == "null" {
		writeError(w, requestID(r), requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Missing credentials parameter"), true)
		return
	}
	auth := h.cfg.auth
	if auth == nil {
		auth = h.n.Authenticator() // the Netron's, possibly set after the gateway started
	}
	if auth == nil {
		writeError(w, requestID(r), requestError(netron.CodeUnavailable, http.StatusServiceUnavailable, "Authentication not configured"), true)
		return
	}
	v, err := decodeJSON(creds)
	if err == nil {
		v, err = protocol.FromJSON(v)
	}
	if err != nil {
		writeError(w, requestID(r), requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Invalid credentials: "+err.Error()), true)
		return
	}
	id, ok := q.ID.(string)
	if !ok || id == "" {
		if u, err := uuid.NewV7(); err == nil {
			id = u.String()
		} else {
			id = uuid.NewString()
		}
	}
	out := h.runAuthenticator(r, auth, v)
	if late := out.late; late != nil {
		// The authenticator outlived its time: the answer goes out now,
		// and the request ends when the authenticator returns. The
		// connection, busy until then, is not the client's to send
		// another request on.
		w.Header().Set("Connection", "close")
		// The body's share of the budget (http.maxBodyMemory) is given
		// back with the answer, not when the authenticator returns:
		// requests whose authenticators hang would otherwise hold it
		// and starve the bodies of all other requests.
		h.bodies.release(held)
		held = 0
		defer func() {
			_ = http.NewResponseController(w).Flush()
			<-late
		}()
	}
	if out.panicked {
		writeError(w, id, invocationError(out.err), false)
		return
	}
	res := out.res
	if out.err != nil {
		res = protocol.Object{{Key: "success", Value: false}, {Key: "error", Value: netron.MessageOf(out.err)}}
	}
	b := append([]byte(nil), `{"id":`...)
	b = protocol.AppendJSONString(b, id)
	b = append(b, `,"result":`...)
	if b, err = protocol.AppendValueJSON(b, res); err != nil {
		h.log.Error("authentication result not encodable as JSON", "error", err)
		writeError(w, id, invocationError(netron.Errorf(netron.CodeInternal, "internal error")), false)
		return
	}
	b = append(b, '}')
	w.Header()["Content-Type"] = jsonContentType
	// With its length, the answer is whole for the client while the
	// request still waits for an authenticator past its time.
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// runAuthenticator runs auth for the request within the Netron's
// TaskTimeout, as the engine runs its authenticate task: an authenticator
// that has not answered by then fails the attempt with deadline_exceeded
// (a failed authentication, answered at once). late is then not nil and
// receives when auth returns: the request waits for it, after its answer,
// before its connection serves another, so that one client cannot pile up
// authentications that ignore their context. A panic is logged and
// reported as an internal error.
func (h *Handler) runAuthenticator(r *http.Request, auth netron.Authenticator, creds any) authOutcome {
	timeout := h.n.Config().TaskTimeout
	ctx, cancel := context.WithTimeout(netron.WithRemoteAddr(r.Context(), r.RemoteAddr), timeout)
	defer cancel()
	done := make(chan authOutcome, 1) // one send, whatever happens: never blocks
	go func() {
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("the authenticator panicked", "path", "/netron/authenticate", "remote", r.RemoteAddr, "panic", fmt.Sprint(p))
				done <- authOutcome{err: netron.Errorf(netron.CodeInternal, "internal error"), panicked: true}
			}
		}()
		res, err := auth(ctx, nil, creds)
		done <- authOutcome{res: res, err: err}
	}()
	select {
	case out := <-done:
		if out.err != nil && !out.panicked && errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
			out.err = timedOut(timeout)
		}
		return out
	case <-ctx.Done():
		out := authOutcome{err: timedOut(timeout), late: done}
		if err := r.Context().Err(); err != nil {
			out.err = err // the client is gone; nobody reads the answer
		}
		return out
	}
}

// authOutcome is what runAuthenticator learned: the authenticator's result
// or error, whether it panicked, and (when it outlived its time) the
// channel its outcome comes on when it returns.
type authOutcome struct {
	res      any
	err      error
	panicked bool
	late     <-chan authOutcome
}

func timedOut(timeout time.Duration) error {
	return netron.Errorf(netron.CodeDeadlineExceeded, "authentication did not finish within %v (netron.taskTimeout)", timeout)
}

// decodeJSON decodes one JSON value (numbers as json.Number) and refuses
// trailing data.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if off := dec.InputOffset(); len(bytes.TrimSpace(b[off:])) > 0 {
		return nil, fmt.Errorf("unexpected data after the JSON value (at offset %d)", off)
	}
	return v, nil
}
