package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

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
	defer h.bodies.release(held) // the credentials decoded from it are used until the answer
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
	res, err := auth(netron.WithRemoteAddr(r.Context(), r.RemoteAddr), nil, v)
	if err != nil {
		res = protocol.Object{{Key: "success", Value: false}, {Key: "error", Value: netron.MessageOf(err)}}
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
	_, _ = w.Write(b)
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
