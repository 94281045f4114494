package logger

import (
	"context"
	"encoding"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"sync"
)

// Redacted is the value that replaces the value of a sensitive attribute.
const Redacted = "[REDACTED]"

// builtinRedactKeys are always redacted. Keys are compared after
// normalizeKey, so "apiKey", "API-KEY" and "api_key" are one key.
var builtinRedactKeys = []string{
	"password", "passwd", "passphrase", "secret", "token", "access_token", "refresh_token",
	"apikey", "api_key", "authorization", "cookie", "set-cookie",
	"private_key", "secret_key", "credential", "credentials",
}

// BuiltinRedactKeys returns the attribute keys that are always redacted, in
// addition to [Config.Redact].
func BuiltinRedactKeys() []string {
	return append([]string(nil), builtinRedactKeys...)
}

// redactor decides which attribute keys are sensitive.
type redactor struct {
	keys   map[string]struct{} // normalised keys
	maxLen int                 // longest normalised key
	clean  sync.Map            // reflect.Type -> bool: see cleanType
}

func newRedactor(extra []string) *redactor {
	r := &redactor{keys: make(map[string]struct{}, len(builtinRedactKeys)+len(extra))}
	for _, list := range [][]string{builtinRedactKeys, extra} {
		for _, k := range list {
			n := normalizeKey(k)
			r.keys[n] = struct{}{}
			r.maxLen = max(r.maxLen, len(n))
		}
	}
	return r
}

// normalizeKey lower-cases the ASCII letters of key and drops '_' and '-'.
func normalizeKey(key string) string {
	b := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		if c, keep := foldByte(key[i]); keep {
			b = append(b, c)
		}
	}
	return string(b)
}

func foldByte(c byte) (byte, bool) {
	switch {
	case c == '_' || c == '-':
		return 0, false
	case 'A' <= c && c <= 'Z':
		return c + ('a' - 'A'), true
	}
	return c, true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isUpper(c) || isDigit(c) }

// match reports whether key is sensitive: the key, or its last words, is
// one of the sensitive keys (compared after normalizeKey). Words are
// separated by any byte other than a letter or a digit, and by a change
// of case ("dbPassword", "githubAPIToken"), so "client_secret",
// "X-Api-Key" and "apiToken" are sensitive, while "password_hint" and
// "tokens_used", which name something else, are not. It does not allocate
// for keys of up to 64 bytes.
func (r *redactor) match(key string) bool {
	var buf [64]byte
	var starts [16]int
	norm, words := buf[:0], starts[:0]
	var prev byte
	for i := 0; i < len(key); i++ {
		c := key[i]
		if isAlnum(c) && (i == 0 || !isAlnum(prev) ||
			isUpper(c) && (isLower(prev) || isDigit(prev) || isUpper(prev) && i+1 < len(key) && isLower(key[i+1]))) {
			words = append(words, len(norm))
		}
		if f, keep := foldByte(c); keep {
			norm = append(norm, f)
		}
		prev = c
	}
	for i := len(words) - 1; i >= 0; i-- {
		tail := norm[words[i]:]
		if len(tail) > r.maxLen {
			return false // longer than every sensitive key
		}
		if _, ok := r.keys[string(tail)]; ok {
			return true
		}
	}
	return false
}

// needs reports whether a must go through redact: its key is sensitive, its
// value must be resolved or searched (a LogValuer or a group), or it is a
// map or a struct holding a sensitive key or field.
func (r *redactor) needs(a slog.Attr) bool {
	if r.match(a.Key) {
		return true
	}
	switch a.Value.Kind() {
	case slog.KindLogValuer:
		return true
	case slog.KindGroup:
		for _, ga := range a.Value.Group() {
			if r.needs(ga) {
				return true
			}
		}
	case slog.KindAny:
		return r.valueNeeds(reflect.ValueOf(a.Value.Any()), 0)
	}
	return false
}

// maxMapDepth bounds the search through the maps, structs and lists a
// value holds (a map[string]any may hold itself): a value deeper than that
// is not searched but written as [Redacted] whole, when the value around
// it is redacted.
const maxMapDepth = 8

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	errorType         = reflect.TypeFor[error]()
)

// writesItself reports whether the values of t choose their own output
// (MarshalJSON, MarshalText, Error), which both the JSON and the text
// handlers use instead of writing them field by field.
func writesItself(t reflect.Type) bool {
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) || t.Implements(errorType)
}

// redactedWriter is a type that writes itself without its secrets, such
// as *url.URL, whose Redacted method hides the password.
type redactedWriter interface{ Redacted() string }

var redactedWriterType = reflect.TypeFor[redactedWriter]()

// selfRedacted returns what the Redacted method of v writes, when v (an
// interface followed) has one and is not nil.
func selfRedacted(v reflect.Value) (string, bool) {
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if !v.IsValid() || !v.Type().Implements(redactedWriterType) || !v.CanInterface() ||
		v.Kind() == reflect.Pointer && v.IsNil() {
		return "", false
	}
	return v.Interface().(redactedWriter).Redacted(), true
}

// searched returns v with interfaces and pointers followed, and whether
// redaction searches it: a map with string keys, a struct, or a slice or
// array of them, whose type does not write itself.
func searched(v reflect.Value) (reflect.Value, bool) {
	for range maxMapDepth {
		if v.Kind() != reflect.Interface && v.Kind() != reflect.Pointer {
			break
		}
		if v.IsNil() || v.Kind() == reflect.Pointer && writesItself(v.Type()) {
			return v, false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		return v, v.Type().Key().Kind() == reflect.String && !writesItself(v.Type())
	case reflect.Struct:
		return v, !writesItself(v.Type())
	case reflect.Slice, reflect.Array:
		return v, holds(v.Type().Elem().Kind()) && !writesItself(v.Type())
	}
	return v, false
}

// holds reports whether a value of kind k may be, or lead to, a value
// that redaction searches.
func holds(k reflect.Kind) bool {
	switch k {
	case reflect.Map, reflect.Struct, reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Array:
		return true
	}
	return false
}

// fieldName returns the name under which the JSON handler writes the
// struct field f ("" when it does not write it).
func fieldName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// valueNeeds reports whether v is a map with string keys (http.Header,
// map[string]string, map[string]any, ...) or a struct that holds a
// sensitive key or field (by its Go name or its json name), in it or in a
// map, struct or list it holds.
func (r *redactor) valueNeeds(v reflect.Value, depth int) bool {
	if _, ok := selfRedacted(v); ok {
		return true
	}
	v, ok := searched(v)
	if !ok || r.cleanType(v.Type()) {
		return false
	}
	if depth > maxMapDepth {
		return true // not searched: hidden whole
	}
	switch v.Kind() {
	case reflect.Map:
		nested := holds(v.Type().Elem().Kind())
		for it := v.MapRange(); it.Next(); {
			if r.match(it.Key().String()) || nested && r.valueNeeds(it.Value(), depth+1) {
				return true
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if r.match(f.Name) || r.match(fieldName(f)) {
				return true
			}
			if (f.IsExported() || f.Anonymous) && holds(f.Type.Kind()) && r.valueNeeds(v.Field(i), depth+1) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if r.valueNeeds(v.Index(i), depth+1) {
				return true
			}
		}
	}
	return false
}

// cleanType reports whether no value of t holds what valueNeeds looks
// for, whatever the value: a struct none of whose field names is
// sensitive and whose fields' types are clean, a list or a pointer of
// clean ones, or a type redaction does not search. Only maps with string
// keys and interfaces need their values read. The answer is kept per
// type, so that logging a struct costs its fields' walk once, not on
// every record.
func (r *redactor) cleanType(t reflect.Type) bool {
	if c, ok := r.clean.Load(t); ok {
		return c.(bool)
	}
	c := r.typeClean(t, map[reflect.Type]bool{})
	r.clean.Store(t, c)
	return c
}

// typeClean is cleanType without the cache; a type met again inside
// itself (a tree's node) is taken as clean there, the rest of it decides.
func (r *redactor) typeClean(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return true
	}
	seen[t] = true
	if t.Implements(redactedWriterType) {
		return false
	}
	if writesItself(t) {
		return true
	}
	switch t.Kind() {
	case reflect.Interface:
		return false
	case reflect.Map:
		return t.Key().Kind() != reflect.String
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return r.typeClean(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if r.match(f.Name) || r.match(fieldName(f)) {
				return false
			}
			if (f.IsExported() || f.Anonymous) && holds(f.Type.Kind()) && !r.typeClean(f.Type, seen) {
				return false
			}
		}
	}
	return true
}

// redactValue returns a copy of v, a value valueNeeds searches, whose
// sensitive keys and fields hold [Redacted] (what it holds redacted the
// same way): a map or a struct as a map[string]any (a struct with the
// exported fields the JSON handler writes, by their json names, those of
// an embedded struct among them), a list as a []any. A value reached
// through an unexported embedded struct, which cannot be copied, is
// written as [Redacted]; an embedded struct that is not copied field by
// field (deeper than maxMapDepth, or with a Redacted method) is written
// under its type's name. v is not changed.
func (r *redactor) redactValue(v reflect.Value, depth int) any {
	if depth > maxMapDepth {
		return Redacted
	}
	if s, ok := selfRedacted(v); ok {
		return s
	}
	v, _ = searched(v)
	entry := func(sensitive bool, e reflect.Value) any {
		switch {
		case sensitive || !e.CanInterface():
			return Redacted
		case r.valueNeeds(e, depth+1):
			return r.redactValue(e, depth+1)
		}
		return e.Interface()
	}
	switch v.Kind() {
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			k := it.Key().String()
			out[k] = entry(r.match(k), it.Value())
		}
		return out
	case reflect.Struct:
		t := v.Type()
		out := make(map[string]any, t.NumField())
		var promoted []map[string]any // fields of embedded structs
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Tag.Get("json") == "" {
				if e, ok := searched(v.Field(i)); ok && e.Kind() == reflect.Struct {
					switch sub := r.redactValue(e, depth+1).(type) {
					case map[string]any:
						promoted = append(promoted, sub)
					default: // too deep, or written by its Redacted method
						out[f.Name] = sub
					}
					continue
				}
			}
			if name := fieldName(f); f.IsExported() && name != "" {
				out[name] = entry(r.match(f.Name) || r.match(name), v.Field(i))
			}
		}
		for _, m := range promoted {
			for k, e := range m {
				if _, ok := out[k]; !ok {
					out[k] = e // the outer struct's field wins, as in JSON
				}
			}
		}
		return out
	default: // a slice or an array
		out := make([]any, v.Len())
		for i := range out {
			out[i] = entry(false, v.Index(i))
		}
		return out
	}
}

// redact returns a with its value replaced by [Redacted] when its key is
// sensitive, and otherwise with LogValuers resolved, groups redacted
// recursively, and a map or a struct that holds a sensitive key or field
// replaced by a redacted copy (see redactValue). The original attribute,
// its group slice and its map are not changed.
func (r *redactor) redact(a slog.Attr) slog.Attr {
	if r.match(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	if a.Value.Kind() == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
	}
	if a.Value.Kind() == slog.KindAny {
		if v := reflect.ValueOf(a.Value.Any()); r.valueNeeds(v, 0) {
			a.Value = slog.AnyValue(r.redactValue(v, 0))
		}
		return a
	}
	if a.Value.Kind() != slog.KindGroup {
		return a
	}
	group := a.Value.Group()
	var out []slog.Attr
	for i, ga := range group {
		if out == nil && !r.needs(ga) {
			continue
		}
		if out == nil {
			out = make([]slog.Attr, len(group))
			copy(out, group)
		}
		out[i] = r.redact(ga)
	}
	if out != nil {
		a.Value = slog.GroupValue(out...)
	}
	return a
}

// redactHandler is a [slog.Handler] middleware that redacts sensitive
// attributes of records and of WithAttrs before passing them to next.
type redactHandler struct {
	r    *redactor
	next slog.Handler
	// hidden says that the handler is within a group whose name is
	// sensitive (WithGroup("credentials")): it writes its attributes
	// under that key, as slog.Group("credentials", ...) would, so each
	// of them is hidden as that group is whole.
	hidden bool
}

// hide returns a with its value replaced by [Redacted]; the attributes of
// an inline group (one without a key) are hidden one by one, as they are
// written beside a.
func hide(a slog.Attr) slog.Attr {
	if a.Key == "" {
		if a.Value = a.Value.Resolve(); a.Value.Kind() == slog.KindGroup {
			group := a.Value.Group()
			out := make([]slog.Attr, len(group))
			for i, ga := range group {
				out[i] = hide(ga)
			}
			return slog.Attr{Value: slog.GroupValue(out...)}
		}
	}
	return slog.String(a.Key, Redacted)
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, rec slog.Record) error {
	dirty := false
	rec.Attrs(func(a slog.Attr) bool {
		dirty = h.hidden || h.r.needs(a)
		return !dirty
	})
	if !dirty {
		return h.next.Handle(ctx, rec)
	}
	redact := h.r.redact
	if h.hidden {
		redact = hide
	}
	out := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redact(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	redact := h.r.redact
	if h.hidden {
		redact = hide
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redact(a)
	}
	return &redactHandler{r: h.r, next: h.next.WithAttrs(out), hidden: h.hidden}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &redactHandler{r: h.r, next: h.next.WithGroup(name), hidden: h.hidden || h.r.match(name)}
}
