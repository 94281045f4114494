package devui

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/titanframework/titan/modules/netron"
	httpgw "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// writeError answers err as {"error": {"code", "message", "details"}}
// with the HTTP status of its code, as the HTTP gateway maps them.
func writeError(w http.ResponseWriter, err error) {
	writeErrorStatus(w, httpgw.HTTPStatus(netron.CodeOf(err)), err)
}

func writeErrorStatus(w http.ResponseWriter, status int, err error) {
	b := appendError(append(make([]byte, 0, 128), `{"error":`...), err)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// appendError appends the JSON object of err: its code's name, its
// message (without the code) and its details when it has some.
func appendError(b []byte, err error) []byte {
	msg := err.Error()
	var details any
	var ne *netron.Error
	if errors.As(err, &ne) {
		msg, details = netron.MessageOf(err), ne.Details()
	}
	b = append(b, `{"code":`...)
	b = protocol.AppendJSONString(b, netron.CodeOf(err).String())
	b = append(b, `,"message":`...)
	b = protocol.AppendJSONString(b, msg)
	if details != nil {
		if d, err := protocol.AppendValueJSON(append(b, `,"details":`...), details); err == nil {
			b = d
		}
	}
	return append(b, '}')
}

// writeJSON answers v, encoded by encoding/json.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, netron.Errorf(netron.CodeInternal, "the answer has no JSON form: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
