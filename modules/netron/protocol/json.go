package protocol

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// ToJSON converts a Netron value to the value JSON.stringify would produce on
// the TypeScript side (NETRON-WIRE.md §11.1), in the shapes encoding/json
// decodes into: nil, bool, string, json.Number, []any and map[string]any.
//
//   - undefined: nil at the top level and in arrays; omitted as an object
//     property (a caller that must omit a top-level undefined, like the HTTP
//     "data" property, checks for [Undefined] first).
//   - numbers: json.Number in JavaScript's number formatting; NaN and ±Inf
//     become nil, -0 becomes 0. Go integers keep every digit.
//   - Date (time.Time): the ISO-8601 string of toISOString,
//     "2024-06-10T06:13:20.000Z"; the zero time (null on the wire) is nil.
//   - BigInt (*big.Int): a json.Number with all digits (TypeScript converts to
//     a lossy number first).
//   - bin ([]byte): {"type":"Buffer","data":[bytes…]} like a Node Buffer.
//   - Map, Set, RegExp: {} as JSON.stringify gives.
//   - Long: {"low":…,"high":…,"unsigned":…} (the long.js fields).
//   - TitanError: {"name","code","message","details","context","timestamp"}
//     plus the non-empty tracing ids and the cause; stacks are never included.
//   - JSError: {"name","message"} plus its fields; ErrorCause: {"name","message"}.
//   - Definition, Reference, StreamReference: their wire fields by their
//     TypeScript names (id, parentId, peerId, meta; defId; streamId, type,
//     isLive, peerId).
//
// Other Go values (structs, typed slices and maps) are first encoded with
// [Marshal], so the json tags and the same rules apply.
func ToJSON(v any) (any, error) {
	return jsonConv{}.toJSON(v, 0)
}

// ToJSONForContract is [ToJSON] for checking a value against a contract
// derived from Go types: binary data becomes {"type":"Buffer","data":[]},
// its bytes not listed. Such a contract says nothing of them that being
// binary data does not guarantee already (each an integer from 0 to 255,
// in an array of any length), so the check holds as it would on the full
// form, while a 4 KiB field costs one small object instead of 4,096
// numbers for the converter and the validator. A hand-written contract
// may constrain the array: check against [ToJSON]'s form then.
func ToJSONForContract(v any) (any, error) {
	return jsonConv{elideBin: true}.toJSON(v, 0)
}

// jsonConv converts values to JSON (see ToJSON).
type jsonConv struct {
	elideBin bool // binary data without its bytes (see ToJSONForContract)
	// ordered makes objects [Object]s in JSON.stringify's key order, for
	// the text writer (AppendValueJSON), instead of encoding/json's maps.
	ordered bool
}

// object returns o as the converter's objects are: o itself when ordered,
// else a map (a key given twice keeps its last value, as JSON.parse does).
func (jc jsonConv) object(o Object) any {
	if jc.ordered {
		return o
	}
	m := make(map[string]any, len(o))
	for _, f := range o {
		m[f.Key] = f.Value
	}
	return m
}

func jsonNumberFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return json.Number(jsNumberString(f))
}

func (jc jsonConv) toJSON(v any, depth int) (any, error) {
	if depth > DefaultMaxDepth {
		return nil, fmt.Errorf("%w: more than %d nested values", ErrTooDeep, DefaultMaxDepth)
	}
	depth++
	switch x := v.(type) {
	case nil, Undefined:
		return nil, nil
	case bool, json.Number:
		return x, nil
	case string:
		return wireString(x), nil
	case int:
		return json.Number(strconv.Itoa(x)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	case uint32:
		return json.Number(strconv.FormatUint(uint64(x), 10)), nil
	case float64:
		return jsonNumberFloat(x), nil
	case float32:
		return jsonNumberFloat(float64(x)), nil
	case []byte:
		data := []any{}
		if !jc.elideBin {
			data = make([]any, len(x))
			for i, c := range x {
				data[i] = json.Number(strconv.Itoa(int(c)))
			}
		}
		return jc.object(Object{{Key: "type", Value: "Buffer"}, {Key: "data", Value: data}}), nil
	case RawValue:
		g, err := DecodeValue(x, Limits{})
		if err != nil {
			return nil, err
		}
		return jc.toJSON(g, depth)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			j, err := jc.toJSON(e, depth)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case Object:
		out := make(Object, 0, len(x))
		for _, f := range x {
			if _, undef := f.Value.(Undefined); undef {
				continue
			}
			j, err := jc.toJSON(f.Value, depth)
			if err != nil {
				return nil, err
			}
			out = append(out, Field{Key: wireString(f.Key), Value: j})
		}
		return jc.object(out), nil
	case map[string]any:
		out := make(Object, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if _, undef := x[k].(Undefined); undef {
				continue
			}
			j, err := jc.toJSON(x[k], depth)
			if err != nil {
				return nil, err
			}
			out = append(out, Field{Key: wireString(k), Value: j})
		}
		return jc.object(out), nil
	case time.Time:
		if x.IsZero() {
			return nil, nil
		}
		return isoString(x), nil
	case *big.Int:
		if x == nil {
			return nil, nil
		}
		return json.Number(x.String()), nil
	case Map, Set, RegExp, *RegExp:
		return jc.object(Object{}), nil
	case Long:
		return jc.object(Object{
			{Key: "low", Value: json.Number(strconv.FormatInt(int64(int32(x.Bits)), 10))},
			{Key: "high", Value: json.Number(strconv.FormatInt(int64(int32(x.Bits>>32)), 10))},
			{Key: "unsigned", Value: x.Unsigned},
		}), nil
	case *TitanError:
		if x == nil {
			return nil, nil
		}
		return jc.titanErrorJSON(x, depth)
	case TitanError:
		return jc.titanErrorJSON(&x, depth)
	case *JSError:
		if x == nil {
			return nil, nil
		}
		return jc.jsErrorJSON(x, depth)
	case JSError:
		return jc.jsErrorJSON(&x, depth)
	case *ErrorCause:
		if x == nil {
			return nil, nil
		}
		return jc.object(Object{{Key: "name", Value: x.Name}, {Key: "message", Value: x.Message}}), nil
	case ErrorCause:
		return jc.object(Object{{Key: "name", Value: x.Name}, {Key: "message", Value: x.Message}}), nil
	case *Definition:
		if x == nil {
			return nil, nil
		}
		return jc.definitionJSON(x, depth)
	case Definition:
		return jc.definitionJSON(&x, depth)
	case Reference:
		return jc.object(Object{{Key: "defId", Value: x.DefID}}), nil
	case StreamReference:
		return jc.object(Object{
			{Key: "streamId", Value: json.Number(strconv.FormatUint(uint64(x.StreamID), 10))},
			{Key: "type", Value: x.Kind.String()},
			{Key: "isLive", Value: x.IsLive},
			{Key: "peerId", Value: x.PeerID},
		}), nil
	}
	b, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	g, err := DecodeValue(b, Limits{MaxFrameSize: math.MaxInt})
	if err != nil {
		return nil, err
	}
	return jc.toJSON(g, depth)
}

// wireString is s as the decoders give it (makeString): invalid UTF-8
// replaced as the TypeScript side replaces it.
func wireString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return makeString([]byte(s))
}

// isoString formats t like Date.prototype.toISOString.
func isoString(t time.Time) string {
	t = t.UTC()
	y := t.Year()
	var year string
	if y >= 0 && y <= 9999 {
		year = fmt.Sprintf("%04d", y)
	} else if y < 0 {
		year = fmt.Sprintf("-%06d", -y)
	} else {
		year = fmt.Sprintf("+%06d", y)
	}
	return year + t.Format("-01-02T15:04:05.000Z")
}

func (jc jsonConv) titanErrorJSON(t *TitanError, depth int) (any, error) {
	details, err := jc.toJSON(orEmptyObject(t.Details), depth)
	if err != nil {
		return nil, err
	}
	ctx, err := jc.toJSON(orEmptyObject(t.Context), depth)
	if err != nil {
		return nil, err
	}
	out := Object{
		{Key: "name", Value: t.Name},
		{Key: "code", Value: json.Number(strconv.Itoa(t.Code))},
		{Key: "message", Value: t.Message},
		{Key: "details", Value: details},
		{Key: "context", Value: ctx},
		{Key: "timestamp", Value: json.Number(strconv.FormatInt(t.Timestamp, 10))},
	}
	for _, id := range []Field{{Key: "requestId", Value: t.RequestID}, {Key: "correlationId", Value: t.CorrelationID}, {Key: "spanId", Value: t.SpanID}, {Key: "traceId", Value: t.TraceID}} {
		if id.Value != "" {
			out = append(out, id)
		}
	}
	if t.Cause != nil {
		c, err := jc.toJSON(t.Cause, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, Field{Key: "cause", Value: c})
	}
	return jc.object(out), nil
}

func orEmptyObject(v any) any {
	if v == nil {
		return Object{}
	}
	return v
}

func (jc jsonConv) jsErrorJSON(e *JSError, depth int) (any, error) {
	out := make(Object, 0, len(e.Fields)+2)
	out = append(out, Field{Key: "name", Value: e.Name}, Field{Key: "message", Value: e.Message})
	for _, f := range e.Fields {
		if _, undef := f.Value.(Undefined); undef || f.Key == "name" || f.Key == "message" {
			continue
		}
		j, err := jc.toJSON(f.Value, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, Field{Key: f.Key, Value: j})
	}
	return jc.object(out), nil
}

func (jc jsonConv) definitionJSON(d *Definition, depth int) (any, error) {
	meta, err := jc.toJSON(d.Meta, depth)
	if err != nil {
		return nil, err
	}
	return jc.object(Object{{Key: "id", Value: d.ID}, {Key: "parentId", Value: d.ParentID}, {Key: "peerId", Value: d.PeerID}, {Key: "meta", Value: meta}}), nil
}

// FromJSON converts a value decoded by encoding/json (preferably with
// Decoder.UseNumber) to a Netron value: objects become [Object] with sorted
// keys, arrays []any, json.Number an int64 when it is an integer that fits,
// else a uint64 when it fits, else a float64; float64, string, bool and nil
// are kept. Nothing is revived (an ISO string stays a string), as the
// TypeScript HTTP server does with its JSON arguments. Values of other types
// fail with [ErrUnsupported].
func FromJSON(v any) (any, error) {
	return fromJSON(v, 0)
}

func fromJSON(v any, depth int) (any, error) {
	if depth > DefaultMaxDepth {
		return nil, fmt.Errorf("%w: more than %d nested values", ErrTooDeep, DefaultMaxDepth)
	}
	depth++
	switch x := v.(type) {
	case nil, bool, string, float64:
		return x, nil
	case json.Number:
		return numberFromJSON(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := fromJSON(e, depth)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make(Object, len(keys))
		for i, k := range keys {
			n, err := fromJSON(x[k], depth)
			if err != nil {
				return nil, err
			}
			out[i] = Field{Key: k, Value: n}
		}
		return out, nil
	case Object:
		out := make(Object, len(x))
		for i, f := range x {
			n, err := fromJSON(f.Value, depth)
			if err != nil {
				return nil, err
			}
			out[i] = Field{Key: f.Key, Value: n}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: FromJSON of %T", ErrUnsupported, v)
}

func numberFromJSON(n json.Number) (any, error) {
	x, err := parseNumber(string(n))
	switch {
	case err != nil:
		return nil, err
	case x.kind == intNumber:
		return x.i, nil
	case x.kind == uintNumber:
		return x.u, nil
	}
	return x.f, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}
