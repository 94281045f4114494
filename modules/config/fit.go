package config

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"
)

// The checks of this file look at a section's values (its JSON form, as
// validated) together with the Go type they decode into, for what a JSON
// Schema cannot say.

// lowercaseTag is the struct tag of a string field (or a map or slice of
// strings) whose value is read ignoring case: it is validated lowercased,
// so that an enum of lowercase names accepts "DEBUG" (see [foldedValue]).
const lowercaseTag = `config:"lowercase"`

// foldedValue returns value (a section's JSON value at path, of Go type t)
// with the strings of fields tagged [lowercaseTag] lowercased, and the
// paths of those it changed; with none, value itself.
func foldedValue(t reflect.Type, value any, path string) (any, map[string]bool) {
	changed := map[string]bool{}
	folded := lowercase(t, copyValue(value), path, false, changed)
	if len(changed) == 0 {
		return value, nil
	}
	return folded, changed
}

// lowercase lowercases, in place, the strings of value held by fields
// tagged [lowercaseTag]; fold says that value itself is held by one.
func lowercase(t reflect.Type, value any, path string, fold bool, changed map[string]bool) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v := value.(type) {
	case string:
		if lower := strings.ToLower(v); fold && t.Kind() == reflect.String && lower != v {
			changed[path] = true
			return lower
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, e := range v {
				v[i] = lowercase(t.Elem(), e, join(path, fmt.Sprint(i)), fold, changed)
			}
		}
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for k, e := range v {
				v[k] = lowercase(t.Elem(), e, join(path, k), fold, changed)
			}
		case reflect.Struct:
			eachField(t, v, func(f reflect.StructField, name string, e any) {
				v[name] = lowercase(f.Type, e, join(path, name), strings.Contains(string(f.Tag), lowercaseTag), changed)
			})
		}
	}
	return value
}

// fitProblems reports the values of value (a section's JSON value at path,
// of Go type t) that pass the schema but do not fit their Go type, which
// would otherwise change on decoding: an integer out of its type's range
// (10000000000000000000 read as a negative int), a map key out of the range
// of its integer type (which would fail decoding) and a duration beyond
// time.Duration's ("9999999999h"), and a number beyond the range of its
// float type (1e300 for a float32), which would decode as ±Inf.
func fitProblems(t reflect.Type, value any, path string, report func(path, reason string)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		switch v := value.(type) {
		case string:
			if _, err := time.ParseDuration(v); err != nil {
				report(path, fmt.Sprintf("want a duration from -%s to %s (about 292 years), got %q", maxHours, maxHours, v))
			}
		case json.Number:
			report(path, fmt.Sprintf("%s%s: a duration needs a unit, such as %ss or %sms", numberDuration, v, v, v))
		}
		return
	}
	switch {
	case isInt(t.Kind()):
		n, ok := value.(json.Number)
		if !ok {
			return
		}
		f, err := n.Float64()
		if err != nil || f != math.Trunc(f) {
			return // not an integer: the schema says so
		}
		lo, hi := intRange(t)
		// Beyond 1e20 is beyond every integer type; nearer, compare exactly.
		if r, ok := new(big.Rat).SetString(string(n)); math.Abs(f) > 1e20 || (ok && r.IsInt() && (r.Num().Cmp(lo) < 0 || r.Num().Cmp(hi) > 0)) {
			typ := "an " + t.Kind().String()
			if typ[3] == 'u' {
				typ = "a " + t.Kind().String()
			}
			report(path, fmt.Sprintf("want an integer from %v to %v (the range of %s), got %s", lo, hi, typ, n))
		}
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		n, ok := value.(json.Number)
		if !ok {
			return
		}
		hi := math.MaxFloat64
		if t.Kind() == reflect.Float32 {
			hi = math.MaxFloat32
		}
		// Decoding rounds a number beyond the type's range to ±Inf.
		if f, _, err := big.ParseFloat(string(n), 10, 64, big.ToNearestEven); err == nil && new(big.Float).Abs(f).Cmp(big.NewFloat(hi)) > 0 {
			report(path, fmt.Sprintf("want a number from %v to %v (the range of a %s), got %s", -hi, hi, t.Kind(), n))
		}
	case t.Kind() == reflect.Struct:
		if m, ok := value.(map[string]any); ok {
			eachField(t, m, func(f reflect.StructField, name string, v any) {
				fitProblems(f.Type, v, join(path, name), report)
			})
		}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		if s, ok := value.([]any); ok {
			for i, v := range s {
				fitProblems(t.Elem(), v, join(path, fmt.Sprint(i)), report)
			}
		}
	case t.Kind() == reflect.Map:
		if m, ok := value.(map[string]any); ok {
			for k, v := range m {
				if isInt(t.Key().Kind()) {
					lo, hi := intRange(t.Key())
					if n, ok := new(big.Int).SetString(k, 10); ok && (n.Cmp(lo) < 0 || n.Cmp(hi) > 0) {
						report(join(path, k), fmt.Sprintf("want a key from %v to %v (the range of %s), got %s", lo, hi, t.Key(), k))
						continue
					}
				}
				fitProblems(t.Elem(), v, join(path, k), report)
			}
		}
	}
}

// numberDuration begins the reason fitProblems gives for a duration written
// as a bare number, which replaces the schema's ("want a string, got a
// number"): that one sends the user quoting the number, refused next.
const numberDuration = "want a duration such as 500ms, 5s or 1h30m, got the number "

// intFitHook refuses, when decoding, a number that the integer it is
// decoded into cannot hold, where mapstructure would wrap it. Load reports
// such values of registered sections first (see fitProblems); this covers
// the sections no module registered.
func intFitHook(from, to reflect.Value) (any, error) {
	if !isInt(to.Kind()) {
		return from.Interface(), nil
	}
	var r *big.Rat
	switch {
	case isInt(from.Kind()) && from.CanInt():
		r = new(big.Rat).SetInt64(from.Int())
	case isInt(from.Kind()):
		r = new(big.Rat).SetUint64(from.Uint())
	case from.Kind() == reflect.Float32 || from.Kind() == reflect.Float64:
		r, _ = new(big.Rat).SetString(fmt.Sprint(from.Float()))
	}
	if r != nil && r.IsInt() {
		if lo, hi := intRange(to.Type()); r.Num().Cmp(lo) < 0 || r.Num().Cmp(hi) > 0 {
			return nil, fmt.Errorf("%s does not fit %s (from %v to %v)", r.RatString(), to.Type(), lo, hi)
		}
	}
	return from.Interface(), nil
}

// isInt reports whether k is a signed or unsigned integer kind.
func isInt(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Uintptr
}

// maxHours is the longest time.Duration in whole hours, "2562047h".
var maxHours = fmt.Sprintf("%dh", time.Duration(math.MaxInt64)/time.Hour)

// eachField calls fn with each field of the struct type t that m, its JSON
// form, has a value for; the fields of embedded structs are t's own.
func eachField(t reflect.Type, m map[string]any, fn func(f reflect.StructField, name string, v any)) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && embeddedUnnamed(f) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				eachField(ft, m, fn)
			}
			continue
		}
		if name, _ := jsonName(f); name != "" {
			if v, ok := m[name]; ok {
				fn(f, name, v)
			}
		}
	}
}

// intRange returns the smallest and the largest value of the integer type t.
func intRange(t reflect.Type) (lo, hi *big.Int) {
	bits := uint(t.Bits())
	one := big.NewInt(1)
	if t.Kind() >= reflect.Uint {
		return new(big.Int), new(big.Int).Sub(new(big.Int).Lsh(one, bits), one)
	}
	hi = new(big.Int).Sub(new(big.Int).Lsh(one, bits-1), one)
	return new(big.Int).Neg(new(big.Int).Add(hi, one)), hi
}
