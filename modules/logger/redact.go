package logger

import (
	"context"
	"log/slog"
	"reflect"
)

// Redacted is the value that replaces the value of a sensitive attribute.
const Redacted = "[REDACTED]"

// builtinRedactKeys are always redacted. Keys are compared after
// normalizeKey, so "apiKey", "API-KEY" and "api_key" are one key.
var builtinRedactKeys = []string{
	"password", "passwd", "secret", "token", "access_token", "refresh_token",
	"apikey", "api_key", "authorization", "cookie", "set-cookie",
	"private_key", "credential", "credentials",
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

// match reports whether key is sensitive. It does not allocate for keys of
// up to 64 bytes.
func (r *redactor) match(key string) bool {
	if r.maxLen > 64 {
		_, ok := r.keys[normalizeKey(key)]
		return ok
	}
	var buf [64]byte
	n := 0
	for i := 0; i < len(key); i++ {
		c, keep := foldByte(key[i])
		if !keep {
			continue
		}
		if n == r.maxLen {
			return false // longer than every sensitive key
		}
		buf[n] = c
		n++
	}
	_, ok := r.keys[string(buf[:n])]
	return ok
}

// needs reports whether a must go through redact: its key is sensitive, its
// value must be resolved or searched (a LogValuer or a group), or it is a
// map with string keys holding a sensitive one.
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
		return r.mapNeeds(reflect.ValueOf(a.Value.Any()), 0)
	}
	return false
}

// maxMapDepth bounds the search through maps in maps (a map[string]any
// may hold itself): a map deeper than that is not searched but written as
// [Redacted] whole, when the map around it is redacted.
const maxMapDepth = 8

// mapNeeds reports whether v is a map with string keys (http.Header,
// map[string]string, map[string]any, ...) that holds a sensitive key, in
// it or in a map it holds.
func (r *redactor) mapNeeds(v reflect.Value, depth int) bool {
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
		return false
	}
	if depth > maxMapDepth {
		return true // not searched: hidden whole
	}
	nested := v.Type().Elem().Kind() == reflect.Map || v.Type().Elem().Kind() == reflect.Interface
	for it := v.MapRange(); it.Next(); {
		if r.match(it.Key().String()) || nested && r.mapNeeds(it.Value(), depth+1) {
			return true
		}
	}
	return false
}

// redactMap returns a copy of v, a map with string keys, as a
// map[string]any whose sensitive keys hold [Redacted] (maps it holds
// redacted the same way); v is not changed.
func (r *redactor) redactMap(v reflect.Value, depth int) any {
	if depth > maxMapDepth {
		return Redacted
	}
	if v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	out := make(map[string]any, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, e := it.Key().String(), it.Value()
		switch {
		case r.match(k):
			out[k] = Redacted
		case r.mapNeeds(e, depth+1):
			out[k] = r.redactMap(e, depth+1)
		default:
			out[k] = e.Interface()
		}
	}
	return out
}

// redact returns a with its value replaced by [Redacted] when its key is
// sensitive, and otherwise with LogValuers resolved, groups redacted
// recursively, and a map with string keys that holds a sensitive key
// replaced by a redacted copy (a map[string]any). The original attribute,
// its group slice and its map are not changed.
func (r *redactor) redact(a slog.Attr) slog.Attr {
	if r.match(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	if a.Value.Kind() == slog.KindLogValuer {
		a.Value = a.Value.Resolve()
	}
	if a.Value.Kind() == slog.KindAny {
		if v := reflect.ValueOf(a.Value.Any()); r.mapNeeds(v, 0) {
			a.Value = slog.AnyValue(r.redactMap(v, 0))
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
