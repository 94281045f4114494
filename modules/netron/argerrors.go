package netron

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/titanframework/titan/internal/schema"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// argInfo is what messages say of one positional argument: its name (the
// "title" of its prefixItems entry, set by WithArgs or by an explicit
// contract), "" when it has none, and the JSON type its contract wants
// ("number", "string or null", "any").
type argInfo struct {
	name, kind string
}

// argInfos reads the names and types of the arguments from the input
// contract; an argument the contract does not describe as a tuple item
// takes the JSON type of its Go type.
func argInfos(in json.RawMessage, args []reflect.Type) []argInfo {
	var doc struct {
		PrefixItems []map[string]any `json:"prefixItems"`
	}
	_ = json.Unmarshal(in, &doc) // a schema that is not an object has no items
	out := make([]argInfo, len(args))
	for i, t := range args {
		out[i].kind = jsonTypeName(t)
		if i < len(doc.PrefixItems) {
			item := doc.PrefixItems[i]
			out[i].name, _ = item["title"].(string)
			if k := schemaKind(item); k != "" {
				out[i].kind = k
			}
		}
	}
	return out
}

// schemaKind names the JSON types a schema accepts, from its "type", or
// from the branches of "anyOf"/"oneOf"; "" when it does not say.
func schemaKind(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		var names []string
		for _, n := range t {
			if n, ok := n.(string); ok {
				names = append(names, n)
			}
		}
		return strings.Join(names, " or ")
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		branches, _ := s[key].([]any)
		var names []string
		for _, b := range branches {
			bm, _ := b.(map[string]any)
			k := schemaKind(bm)
			if k == "" {
				return ""
			}
			names = append(names, k)
		}
		if len(names) > 0 {
			return strings.Join(names, " or ")
		}
	}
	return ""
}

// plural says "1 argument", "2 arguments".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// argLabel names argument i (from 0) for messages: "argument 1", or
// "argument 1 (a)" when it has a name.
func (m *method) argLabel(i int) string {
	l := "argument " + strconv.Itoa(i+1)
	if i < len(m.argInfo) && m.argInfo[i].name != "" {
		l += " (" + m.argInfo[i].name + ")"
	}
	return l
}

// signature lists the arguments: "number, number", or "a: number, b:
// number" with names.
func (m *method) signature() string {
	parts := make([]string, len(m.argInfo))
	for i, a := range m.argInfo {
		parts[i] = a.kind
		if a.name != "" {
			parts[i] = a.name + ": " + a.kind
		}
	}
	return strings.Join(parts, ", ")
}

// checkArity refuses a call with the wrong number of arguments:
// "calculator@1.0.0.add takes 2 arguments (number, number), got 3".
func (call *Call) checkArity() error {
	m := call.m
	n := len(m.args)
	if len(call.raw) == n {
		return nil
	}
	var msg string
	if n == 0 {
		msg = fmt.Sprintf("%s.%s takes no arguments, got %d", call.Service, call.Method, len(call.raw))
	} else {
		msg = fmt.Sprintf("%s.%s takes %s (%s), got %d", call.Service, call.Method, plural(n, "argument"), m.signature(), len(call.raw))
	}
	return NewError(CodeInvalidArgument, errors.New(msg)).
		WithDetails(violationDetails([]string{"/"}, []string{fmt.Sprintf("want %d items, got %d", n, len(call.raw))}))
}

// argError describes argument i that did not decode into its Go type:
// "calculator@1.0.0.add: argument 1 (a): want a number, got a string".
// For scalar arguments this is where the contract is enforced, so it reads
// like a contract violation.
func (call *Call) argError(i int, err error) error {
	m := call.m
	want := "any"
	if i < len(m.argInfo) {
		want = m.argInfo[i].kind
	}
	reason := strings.TrimPrefix(err.Error(), "protocol: ")
	if errors.Is(err, protocol.ErrTypeMismatch) {
		if got, ok := call.describeArg(i, want); ok {
			reason = "want " + articles(want) + ", got " + got
		}
	}
	return NewError(CodeInvalidArgument, fmt.Errorf("%s.%s: %s: %s", call.Service, call.Method, m.argLabel(i), reason)).
		WithDetails(violationDetails([]string{"/" + strconv.Itoa(i)}, []string{reason}))
}

// describeArg says what argument i is, when that explains why it does not
// fit a value of JSON type want: its JSON type when that is not what was
// wanted ("a string"; a number that is not whole where an integer was
// wanted is "a number", as the contract's validator says), or a whole
// number too large for the Go type ("300, which does not fit Go type
// int8"). It reports false when the argument has the wanted JSON type and
// the mismatch is inside it (the decoder's message says more).
func (call *Call) describeArg(i int, want string) (string, bool) {
	v, err := protocol.DecodeValue(call.raw[i], call.limits)
	if err != nil {
		return "", false
	}
	j, err := protocol.ToJSON(v)
	if err != nil {
		return "", false
	}
	got := jsonKindOf(j)
	wants := " or " + want + " or "
	num, isNum := j.(json.Number)
	switch {
	case !isNum && strings.Contains(wants, " or "+got+" or "):
		return "", false
	case !isNum:
		return schema.Article(got), true
	case !strings.Contains(wants, " or integer or ") && !strings.Contains(wants, " or number or "):
		return "a number", true
	}
	f, err := num.Float64()
	if t := call.m.args[i]; err == nil && f == math.Trunc(f) && isIntKind(t) {
		shown := string(num)
		if len(shown) > 32 {
			shown = shown[:32] + "…"
		}
		return shown + ", which does not fit Go type " + t.String(), true
	}
	return "a number", true
}

func isIntKind(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// articles puts an article before each alternative of a kind: "a string
// or null".
func articles(kind string) string {
	if kind == "any" {
		return "any value"
	}
	parts := strings.Split(kind, " or ")
	for i, p := range parts {
		parts[i] = schema.Article(p)
	}
	return strings.Join(parts, " or ")
}

// jsonKindOf names the JSON type of a value in the JSON model of
// NETRON-WIRE.md §11.1.
func jsonKindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

// inputViolation builds the invalid_argument error of arguments that break
// the input contract, naming each failing place by argument and, within
// it, by JSON pointer: "calculator@1.0.0.move: argument 1 (p) at /x: want
// at least 0, got -5", in the order of the places. The details list each
// violation's JSON pointer from the argument list ("/0/x") and reason.
func (call *Call) inputViolation(vs []schema.Violation) *Error {
	// In the order of the places, whatever order the value's keys came in.
	vs = slices.Clone(vs)
	slices.SortStableFunc(vs, func(a, b schema.Violation) int { return slices.Compare(a.Path, b.Path) })
	parts := make([]string, len(vs))
	paths := make([]string, len(vs))
	reasons := make([]string, len(vs))
	for i, v := range vs {
		paths[i], reasons[i] = v.Pointer(), v.Reason
		if paths[i] == "" {
			paths[i] = "/"
		}
		parts[i] = "arguments: " + v.Reason
		if len(v.Path) > 0 {
			if n, err := strconv.Atoi(v.Path[0]); err == nil && n >= 0 {
				parts[i] = call.m.argLabel(n)
				if len(v.Path) > 1 {
					parts[i] += " at " + schema.Violation{Path: v.Path[1:]}.Pointer()
				}
				parts[i] += ": " + v.Reason
			}
		}
	}
	return NewError(CodeInvalidArgument, fmt.Errorf("%s.%s: %s", call.Service, call.Method, strings.Join(parts, "; "))).
		WithDetails(violationDetails(paths, reasons))
}

// violationDetails is the details object of a contract violation:
// {violations: [{path, reason}, ...]}.
func violationDetails(paths, reasons []string) protocol.Object {
	list := make([]any, len(paths))
	for i := range paths {
		list[i] = protocol.Object{{Key: "path", Value: paths[i]}, {Key: "reason", Value: reasons[i]}}
	}
	return protocol.Object{{Key: "violations", Value: list}}
}
