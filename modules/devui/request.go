package devui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/titanframework/titan/internal/jsonwalk"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// callRequest is the body of POST api/call and api/stream:
//
//	{"service": "calculator@1.0.0", "method": "add", "args": [2, 3]}
//
// args, the positional arguments, may be left out when there are none.
type callRequest struct {
	Service string
	Method  string
	Args    []protocol.RawValue
}

// parseCall reads a call request, converting the arguments by the JSON
// mapping of NETRON-WIRE.md §11.1 (as the HTTP gateway does). Its errors
// are invalid_argument and say what is wrong with the body.
func parseCall(body []byte) (callRequest, error) {
	var q struct {
		Service *string         `json:"service"`
		Method  *string         `json:"method"`
		Args    json.RawMessage `json:"args"`
	}
	if err := decodeStrict(body, &q); err != nil {
		return callRequest{}, netron.Errorf(netron.CodeInvalidArgument, "the request is not {\"service\", \"method\", \"args\"}: %v", err)
	}
	switch {
	case q.Service == nil || *q.Service == "":
		return callRequest{}, netron.Errorf(netron.CodeInvalidArgument, "the request names no service")
	case q.Method == nil || *q.Method == "":
		return callRequest{}, netron.Errorf(netron.CodeInvalidArgument, "the request names no method")
	}
	out := callRequest{Service: *q.Service, Method: *q.Method}
	if len(q.Args) == 0 || string(q.Args) == "null" {
		return out, nil
	}
	if q.Args[jsonwalk.Space(q.Args, 0)] != '[' {
		return callRequest{}, netron.Errorf(netron.CodeInvalidArgument, "args must be the JSON array of the positional arguments, such as [2, 3]")
	}
	depth := protocol.DefaultMaxDepth + 1 // the list is a level of its own
	raw, err := protocol.AppendJSONDepth(nil, q.Args, depth)
	if err != nil {
		if de, ok := errors.AsType[*protocol.DecodeError](err); ok && errors.Is(err, protocol.ErrTooLarge) {
			// A number beyond the float64 range: say which argument holds
			// it, as the HTTP gateway does.
			return callRequest{}, netron.Errorf(netron.CodeInvalidArgument, "args: argument %d: %s", jsonwalk.ElementAt(q.Args, de.Offset), de.Msg)
		}
		return callRequest{}, netron.Errorf(netron.CodeInvalidArgument, "args: %v", err)
	}
	out.Args, err = protocol.SplitArray(raw, nil, protocol.Limits{MaxFrameSize: math.MaxInt, MaxDepth: depth})
	if err != nil { // AppendJSONDepth wrote one array within the limits
		return callRequest{}, netron.Errorf(netron.CodeInvalidArgument, "args: %v", err)
	}
	return out, nil
}

// clientMessage is what the page sends on the event feed: a
// subscription to make, or one to end, with the page's token.
//
//	{"subscribe": "calculator.*", "token": "..."}
//	{"unsubscribe": "calculator.*"}
type clientMessage struct {
	Subscribe   string `json:"subscribe,omitempty"`
	Unsubscribe string `json:"unsubscribe,omitempty"`
	Token       string `json:"token,omitempty"`
}

// maxPattern bounds the length of an event pattern.
const maxPattern = 256

// parseClientMessage reads a message of the event feed. Its errors are
// invalid_argument.
func parseClientMessage(b []byte) (clientMessage, error) {
	var m clientMessage
	if err := decodeStrict(b, &m); err != nil {
		return m, netron.Errorf(netron.CodeInvalidArgument, "the message is not {\"subscribe\"} or {\"unsubscribe\"}: %v", err)
	}
	p := m.Subscribe
	switch {
	case (m.Subscribe == "") == (m.Unsubscribe == ""):
		return m, netron.Errorf(netron.CodeInvalidArgument, "the message must name one pattern to subscribe to or to unsubscribe from")
	case p == "":
		p = m.Unsubscribe
	}
	if len(p) > maxPattern {
		return m, netron.Errorf(netron.CodeInvalidArgument, "the pattern is %d bytes long, more than %d", len(p), maxPattern)
	}
	return m, nil
}

// decodeStrict decodes one JSON object into v, refusing unknown keys and
// anything after it.
func decodeStrict(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("it is empty") // not encoding/json's bare "EOF"
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("invalid JSON at offset %d: %v", se.Offset, se)
		}
		return err
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) > 0 {
		return fmt.Errorf("data after the JSON value (at offset %d)", dec.InputOffset())
	}
	return nil
}
