package protocol_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/wirevectors"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// jobj is a JSON object with its keys in text order.
type jobj []jkv

type jkv struct {
	key string
	val any
}

func (o jobj) get(key string) (any, bool) {
	for _, kv := range o {
		if kv.key == key {
			return kv.val, true
		}
	}
	return nil, false
}

func (o jobj) str(key string) string {
	v, _ := o.get(key)
	s, _ := v.(string)
	return s
}

func (o jobj) obj(key string) jobj {
	v, _ := o.get(key)
	x, _ := v.(jobj)
	return x
}

func (o jobj) arr(key string) []any {
	v, _ := o.get(key)
	x, _ := v.([]any)
	return x
}

func (o jobj) num(key string) int64 {
	v, _ := o.get(key)
	n, _ := v.(json.Number)
	i, _ := n.Int64()
	return i
}

func (o jobj) flag(key string) bool {
	v, ok := o.get(key)
	if !ok {
		return false
	}
	switch x := v.(type) {
	case bool:
		return x
	case json.Number:
		return x == "1"
	}
	return false
}

// readOrderedJSON parses JSON keeping object key order (json.Decoder tokens).
func readOrderedJSON(r io.Reader) (any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	v, err := readJSONValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing JSON data")
	}
	return v, nil
}

func readJSONValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch d := tok.(type) {
	case json.Delim:
		switch d {
		case '{':
			o := jobj{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readJSONValue(dec)
				if err != nil {
					return nil, err
				}
				o = append(o, jkv{key: kt.(string), val: v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			a := []any{}
			for dec.More() {
				v, err := readJSONValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		}
		return nil, fmt.Errorf("unexpected delimiter %v", d)
	}
	return tok, nil
}

func loadVectors(t testing.TB) jobj {
	t.Helper()
	v, err := readOrderedJSON(bytes.NewReader(wirevectors.JSON))
	if err != nil {
		t.Fatalf("parse vectors.json: %v", err)
	}
	return v.(jobj)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// jsNumber converts a JSON number of the tagged notation (a JS number) to
// int64 when it is an integer literal that fits, else float64.
func jsNumber(n json.Number) any {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// tagged converts the tagged JSON notation of vectors.json to Go values.
type tagged struct {
	t testing.TB
}

func (c tagged) value(v any) any {
	c.t.Helper()
	switch x := v.(type) {
	case nil, bool, string:
		return x
	case json.Number:
		return jsNumber(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = c.value(e)
		}
		return out
	case jobj:
		if len(x) == 1 && strings.HasPrefix(x[0].key, "$") {
			return c.special(x[0].key, x[0].val)
		}
		out := make(protocol.Object, len(x))
		for i, kv := range x {
			out[i] = protocol.Field{Key: kv.key, Value: c.value(kv.val)}
		}
		return out
	}
	c.t.Fatalf("unexpected JSON value %T", v)
	return nil
}

func (c tagged) optString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case jobj:
		if _, ok := x.get("$undefined"); ok {
			return ""
		}
	}
	c.t.Fatalf("expected string or undefined, got %#v", v)
	return ""
}

func (c tagged) special(tag string, v any) any {
	c.t.Helper()
	switch tag {
	case "$undefined":
		return protocol.Undefined{}
	case "$float":
		switch v.(string) {
		case "NaN":
			return math.NaN()
		case "Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		case "-0":
			return math.Copysign(0, -1)
		}
	case "$bigint":
		x, ok := new(big.Int).SetString(v.(string), 10)
		if !ok {
			c.t.Fatalf("bad bigint %v", v)
		}
		return x
	case "$bin":
		return mustHex(c.t, v.(string))
	case "$date":
		ms, _ := v.(json.Number).Int64()
		return time.UnixMilli(ms).UTC()
	case "$map":
		var m protocol.Map
		for _, p := range v.([]any) {
			pair := p.([]any)
			m = append(m, protocol.Pair{Key: c.value(pair[0]), Value: c.value(pair[1])})
		}
		if m == nil {
			m = protocol.Map{}
		}
		return m
	case "$set":
		s := protocol.Set{}
		for _, e := range v.([]any) {
			s = append(s, c.value(e))
		}
		return s
	case "$regexp":
		o := v.(jobj)
		return protocol.RegExp{Source: o.str("source"), Flags: o.str("flags")}
	case "$long":
		o := v.(jobj)
		l := protocol.Long{Unsigned: o.flag("unsigned")}
		if l.Unsigned {
			u, err := strconv.ParseUint(o.str("value"), 10, 64)
			if err != nil {
				c.t.Fatal(err)
			}
			l.Bits = u
		} else {
			i, err := strconv.ParseInt(o.str("value"), 10, 64)
			if err != nil {
				c.t.Fatal(err)
			}
			l.Bits = uint64(i)
		}
		return l
	case "$definition":
		o := v.(jobj)
		meta, _ := o.get("meta")
		return &protocol.Definition{ID: o.str("id"), ParentID: o.str("parentId"), PeerID: o.str("peerId"), Meta: c.value(meta)}
	case "$reference":
		return protocol.Reference{DefID: v.(jobj).str("defId")}
	case "$streamReference":
		o := v.(jobj)
		kind := protocol.StreamReadable
		if o.str("type") == "writable" {
			kind = protocol.StreamWritable
		}
		return protocol.StreamReference{StreamID: uint32(o.num("streamId")), Kind: kind, IsLive: o.flag("isLive"), PeerID: o.str("peerId")}
	case "$titanError":
		return c.titanError(v.(jobj))
	case "$plainErrorCause":
		o := v.(jobj)
		return &protocol.ErrorCause{Name: o.str("name"), Message: o.str("message")}
	case "$error":
		o := v.(jobj)
		e := &protocol.JSError{Class: protocol.ErrorClassOf(o.str("class")), Name: o.str("name"), Message: o.str("message")}
		if s, ok := o.get("stack"); ok {
			e.Stack = c.optString(s)
		}
		e.Fields = protocol.Object{}
		for _, kv := range o.obj("fields") {
			e.Fields = append(e.Fields, protocol.Field{Key: kv.key, Value: c.value(kv.val)})
		}
		return e
	}
	c.t.Fatalf("unknown tag %s", tag)
	return nil
}

func (c tagged) titanError(o jobj) *protocol.TitanError {
	c.t.Helper()
	te := &protocol.TitanError{Name: o.str("name"), Code: int(o.num("code")), Message: o.str("message")}
	details, _ := o.get("details")
	te.Details = c.value(details)
	ctx, _ := o.get("context")
	te.Context = c.value(ctx)
	te.Timestamp = o.num("timestamp")
	for key, p := range map[string]*string{"requestId": &te.RequestID, "correlationId": &te.CorrelationID, "spanId": &te.SpanID, "traceId": &te.TraceID, "stack": &te.Stack} {
		if v, ok := o.get(key); ok {
			*p = c.optString(v)
		}
	}
	if cause, ok := o.get("cause"); ok && cause != nil {
		te.Cause = c.value(cause)
	}
	if extras, ok := o.get("extras"); ok && extras != nil {
		te.Extras = c.value(extras).(protocol.Object)
	}
	if cat := o.str("category"); cat != "" && cat != te.Category() {
		c.t.Errorf("TitanError %d: Category() = %q, vector says %q", te.Code, te.Category(), cat)
	}
	if hs := o.num("httpStatus"); hs != 0 && int(hs) != te.HTTPStatus() {
		c.t.Errorf("TitanError %d: HTTPStatus() = %d, vector says %d", te.Code, te.HTTPStatus(), hs)
	}
	return te
}

func (c tagged) packet(o jobj) protocol.Packet {
	c.t.Helper()
	data, _ := o.get("data")
	p := protocol.Packet{
		ID:          uint32(o.num("id")),
		Type:        protocol.Type(o.num("type")),
		Impulse:     o.flag("impulse"),
		Error:       o.flag("error"),
		EOS:         o.flag("eos"),
		Live:        o.flag("live"),
		StreamID:    uint32(o.num("streamId")),
		StreamIndex: uint32(o.num("streamIndex")),
		Data:        c.value(data),
	}
	if got, want := p.Flags(), byte(o.num("flags")); got != want {
		c.t.Errorf("Flags() = %#02x, vector says %#02x", got, want)
	}
	return p
}

// numeric returns v as an exact rational when it is a number.
func numeric(v any) (*big.Rat, bool, bool) {
	switch n := v.(type) {
	case int64:
		return new(big.Rat).SetInt64(n), false, true
	case uint64:
		return new(big.Rat).SetUint64(n), false, true
	case float64:
		if math.IsNaN(n) {
			return nil, true, true
		}
		if math.IsInf(n, 0) {
			return nil, false, true
		}
		return new(big.Rat).SetFloat64(n), false, true
	}
	return nil, false, false
}

// sameValue compares Netron values; numbers compare by value (a JS number
// may arrive as int64 or float64), NaN equals NaN.
func sameValue(a, b any) bool {
	if ra, nanA, ok := numeric(a); ok {
		rb, nanB, ok := numeric(b)
		if !ok {
			return false
		}
		if nanA || nanB {
			return nanA && nanB
		}
		if ra == nil || rb == nil {
			fa, _ := toF(a)
			fb, _ := toF(b)
			return fa == fb
		}
		return ra.Cmp(rb) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case protocol.Set:
		y, ok := b.(protocol.Set)
		return ok && sameValue([]any(x), []any(y))
	case protocol.Object:
		y, ok := b.(protocol.Object)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Key != y[i].Key || !sameValue(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case protocol.Map:
		y, ok := b.(protocol.Map)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i].Key, y[i].Key) || !sameValue(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case *big.Int:
		y, ok := b.(*big.Int)
		return ok && x.Cmp(y) == 0
	case *protocol.Definition:
		y, ok := b.(*protocol.Definition)
		return ok && x.ID == y.ID && x.ParentID == y.ParentID && x.PeerID == y.PeerID && sameValue(x.Meta, y.Meta)
	case *protocol.JSError:
		y, ok := b.(*protocol.JSError)
		return ok && x.Class == y.Class && x.Name == y.Name && x.Message == y.Message && x.Stack == y.Stack &&
			sameValue(x.Fields, y.Fields)
	case *protocol.TitanError:
		y, ok := b.(*protocol.TitanError)
		return ok && x.Name == y.Name && x.Code == y.Code && x.Message == y.Message &&
			sameValue(x.Details, y.Details) && sameValue(x.Context, y.Context) && x.Timestamp == y.Timestamp &&
			x.RequestID == y.RequestID && x.CorrelationID == y.CorrelationID && x.SpanID == y.SpanID &&
			x.TraceID == y.TraceID && x.Stack == y.Stack && sameValue(x.Cause, y.Cause) && sameValue(x.Extras, y.Extras)
	}
	return reflect.DeepEqual(a, b)
}

func toF(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func samePacket(a, b protocol.Packet) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Impulse == b.Impulse && a.Error == b.Error && a.EOS == b.EOS &&
		a.Live == b.Live && a.StreamID == b.StreamID && a.StreamIndex == b.StreamIndex && sameValue(a.Data, b.Data)
}

func wantErr(t testing.TB, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error = %v, want %v", err, sentinel)
	}
}
