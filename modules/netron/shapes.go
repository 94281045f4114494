package netron

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// WithStrict makes [Netron.Register] fail, instead of logging a warning,
// when a service has exported methods that look meant to be public but are
// not exposed (see Register for the rule). Off by default; titan.Strict
// turns it on for an app.
func WithStrict() Option {
	return netronOption{"Strict()", func(n *Netron) { n.strict = true }}
}

// acceptedShapes names the shapes of public methods, for messages.
const acceptedShapes = "a public method takes a context.Context first and returns (T, error), error or iter.Seq2[T, error]"

// helperMethods are methods of well-known interfaces of the standard
// library (io.Closer, json.Marshaler, sql.Scanner, ...) that return an
// error without taking a context: a service type may have them without
// being told that they are not exposed. They are matched by name and
// signature.
var helperMethods = map[string]reflect.Type{
	"Close":           reflect.TypeFor[func() error](),
	"Unwrap":          reflect.TypeFor[func() error](),
	"MarshalJSON":     reflect.TypeFor[func() ([]byte, error)](),
	"UnmarshalJSON":   reflect.TypeFor[func([]byte) error](),
	"MarshalText":     reflect.TypeFor[func() ([]byte, error)](),
	"UnmarshalText":   reflect.TypeFor[func([]byte) error](),
	"MarshalBinary":   reflect.TypeFor[func() ([]byte, error)](),
	"UnmarshalBinary": reflect.TypeFor[func([]byte) error](),
	"GobEncode":       reflect.TypeFor[func() ([]byte, error)](),
	"GobDecode":       reflect.TypeFor[func([]byte) error](),
	"MarshalYAML":     reflect.TypeFor[func() (any, error)](),
	"Scan":            reflect.TypeFor[func(any) error](),
	"Value":           reflect.TypeFor[func() (any, error)](),
	"Set":             reflect.TypeFor[func(string) error](),
	"Read":            reflect.TypeFor[func([]byte) (int, error)](),
	"Write":           reflect.TypeFor[func([]byte) (int, error)](),
	"WriteString":     reflect.TypeFor[func(string) (int, error)](),
	"ReadFrom":        reflect.TypeFor[func(io.Reader) (int64, error)](),
	"WriteTo":         reflect.TypeFor[func(io.Writer) (int64, error)](),
}

// methodShape sorts an exported method (ft without the receiver) into
// public (why "" and ok), not exposed with the reason why (a warning, or
// with Strict an error), a helper (why "" and not ok: not public, not
// worth a warning), or a mistake (err: a context.Context after the first
// argument).
//
// The rule: a method that takes a context.Context first is public when it
// is not variadic and returns (T, error), error or iter.Seq2[T, error],
// and is reported otherwise. A method without a context first is reported
// when it looks like a public method that forgot it: it returns an error
// last, or an iter.Seq2[T, error]. Other methods (String() string, Len()
// int, Name() string, ...) and the methods of helperMethods are helpers.
func methodShape(name string, ft reflect.Type) (ok bool, why string, err error) {
	for i := 1; i < ft.NumIn(); i++ {
		if ft.In(i) == contextType {
			return false, "", fmt.Errorf("method %s%s: context.Context must be the first argument, not argument %d", name, funcString(ft), i+1)
		}
	}
	ctxFirst := ft.NumIn() > 0 && ft.In(0) == contextType
	if !ctxFirst {
		if t, known := helperMethods[name]; known && t == ft {
			return false, "", nil
		}
		if rpcResults(ft) {
			return false, fmt.Sprintf("%s%s: no context.Context first argument", name, funcString(ft)), nil
		}
		return false, "", nil
	}
	switch {
	case ft.IsVariadic():
		return false, fmt.Sprintf("%s%s: variadic arguments cannot be called positionally", name, funcString(ft)), nil
	case !rpcResults(ft):
		return false, fmt.Sprintf("%s%s: returns %s", name, funcString(ft), resultsString(ft)), nil
	}
	return true, "", nil
}

// rpcResults reports whether ft returns (T, error), error or
// iter.Seq2[T, error].
func rpcResults(ft reflect.Type) bool {
	switch {
	case ft.NumOut() == 2 && ft.Out(1) == errorType:
		return true
	case ft.NumOut() == 1 && ft.Out(0) == errorType:
		return true
	case ft.NumOut() == 1:
		_, ok := isStreamType(ft.Out(0))
		return ok
	}
	return false
}

// funcString writes a method's type as in its declaration:
// "(name string) (string, error)".
func funcString(ft reflect.Type) string {
	in := make([]string, ft.NumIn())
	for i := range in {
		in[i] = ft.In(i).String()
		if ft.IsVariadic() && i == len(in)-1 {
			in[i] = "..." + ft.In(i).Elem().String()
		}
	}
	s := "(" + strings.Join(in, ", ") + ")"
	if r := resultsString(ft); r != "nothing" {
		s += " " + r
	}
	return s
}

// resultsString writes a method's results: "error", "(int, int, error)",
// or "nothing".
func resultsString(ft reflect.Type) string {
	switch ft.NumOut() {
	case 0:
		return "nothing"
	case 1:
		return ft.Out(0).String()
	}
	out := make([]string, ft.NumOut())
	for i := range out {
		out[i] = ft.Out(i).String()
	}
	return "(" + strings.Join(out, ", ") + ")"
}

// notExposedError is the Strict error of a service with exported methods
// that are not exposed.
func notExposedError(qualified string, why []string) error {
	return fmt.Errorf("netron: service %s: %s not exposed (Strict): %s; %s",
		qualified, pluralMethods(len(why)), strings.Join(why, "; "), acceptedShapes)
}

func pluralMethods(n int) string {
	if n == 1 {
		return "1 exported method is"
	}
	return strconv.Itoa(n) + " exported methods are"
}
