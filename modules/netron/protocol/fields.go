package protocol

import (
	"cmp"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// field is one encoded struct field, found by the rules of encoding/json:
// the json tag names it ("-" skips it), untagged exported fields use the Go
// name, embedded structs without a tag are flattened (those of an
// unexported type with a tag are fields of that name), and among fields with
// the same name the shallowest wins, then the tagged one, else all are
// dropped.
type field struct {
	name      string
	key       []byte // the name, encoded as a MessagePack string
	index     []int
	direct    int // index[0] for a field of the struct itself (len(index) == 1), else -1
	typ       reflect.Type
	tagged    bool
	omitEmpty bool
	omitZero  bool
	// readOnly: an unexported struct embedded by pointer with a json
	// name, which the decoder can neither allocate nor set to nil; it
	// skips its values.
	readOnly bool
}

type structInfo struct {
	fields []field
	byName map[string]int
}

var structCache sync.Map // reflect.Type -> *structInfo

func cachedStructInfo(t reflect.Type) *structInfo {
	if si, ok := structCache.Load(t); ok {
		return si.(*structInfo)
	}
	fields := typeFields(t)
	si := &structInfo{fields: fields, byName: make(map[string]int, len(fields))}
	for i := range fields {
		si.byName[fields[i].name] = i
	}
	actual, _ := structCache.LoadOrStore(t, si)
	return actual.(*structInfo)
}

var (
	timeType   = reflect.TypeFor[time.Time]()
	bigIntType = reflect.TypeFor[big.Int]()
	errorType  = reflect.TypeFor[error]()
	rawType    = reflect.TypeFor[RawValue]()
)

// modelTypes are the generic-model types with a wire form of their own; they
// are never flattened or walked field by field.
var modelTypes = map[reflect.Type]bool{
	reflect.TypeFor[Undefined]():       true,
	reflect.TypeFor[Object]():          true,
	reflect.TypeFor[Map]():             true,
	reflect.TypeFor[Set]():             true,
	reflect.TypeFor[RegExp]():          true,
	reflect.TypeFor[Long]():            true,
	reflect.TypeFor[JSError]():         true,
	reflect.TypeFor[TitanError]():      true,
	reflect.TypeFor[ErrorCause]():      true,
	reflect.TypeFor[Definition]():      true,
	reflect.TypeFor[Reference]():       true,
	reflect.TypeFor[StreamReference](): true,
}

func isOpaqueStruct(t reflect.Type) bool {
	return t == timeType || t == bigIntType || modelTypes[t]
}

func parseTag(tag string) (name string, omitEmpty, omitZero bool) {
	name, opts, _ := strings.Cut(tag, ",")
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		switch o {
		case "omitempty":
			omitEmpty = true
		case "omitzero":
			omitZero = true
		}
	}
	return name, omitEmpty, omitZero
}

func typeFields(t reflect.Type) []field {
	type scan struct {
		typ   reflect.Type
		index []int
	}
	var current []scan
	next := []scan{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	var fields []field
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true
			for i := 0; i < f.typ.NumField(); i++ {
				sf := f.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, omitEmpty, omitZero := parseTag(tag)
				index := make([]int, len(f.index)+1)
				copy(index, f.index)
				index[len(f.index)] = i
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct || isOpaqueStruct(ft) {
					// An unexported struct embedded with a json name is
					// written under that name, as encoding/json writes it.
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					fields = append(fields, field{
						name: name, index: index, typ: sf.Type, tagged: tagged,
						omitEmpty: omitEmpty, omitZero: omitZero,
						readOnly: !sf.IsExported() && sf.Type.Kind() == reflect.Pointer,
					})
					if count[f.typ] > 1 {
						// Two embeddings of the same type at this depth make the
						// field ambiguous; a duplicate lets the dominance rule drop it.
						fields = append(fields, fields[len(fields)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, scan{typ: ft, index: index})
				}
			}
		}
	}
	slices.SortFunc(fields, func(a, b field) int {
		if c := cmp.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for advance, i := 0, 0; i < len(fields); i += advance {
		name := fields[i].name
		for advance = 1; i+advance < len(fields); advance++ {
			if fields[i+advance].name != name {
				break
			}
		}
		group := fields[i : i+advance]
		if len(group) == 1 {
			out = append(out, group[0])
			continue
		}
		// Dominant field: strictly shallower, or tagged among equals.
		if len(group[0].index) < len(group[1].index) || (group[0].tagged && !group[1].tagged) {
			out = append(out, group[0])
		}
	}
	fields = out
	slices.SortFunc(fields, func(a, b field) int { return slices.Compare(a.index, b.index) })
	for i := range fields {
		e := encoder{}
		e.str(fields[i].name)
		fields[i].key = e.buf
		fields[i].direct = -1
		if len(fields[i].index) == 1 {
			fields[i].direct = fields[i].index[0]
		}
	}
	return fields
}

// fieldValue walks index from v, reporting false when it passes a nil
// embedded pointer.
func fieldValue(v reflect.Value, index []int) (reflect.Value, bool) {
	for n, i := range index {
		if n > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

// value is fieldValue(v, f.index), with no walk for a field of the struct
// itself.
func (f *field) value(v reflect.Value) (reflect.Value, bool) {
	if f.direct >= 0 {
		return v.Field(f.direct), true
	}
	return fieldValue(v, f.index)
}

// fieldForSet walks index from v, allocating nil embedded pointers; it
// reports false when such a pointer is unexported and cannot be set.
func fieldForSet(v reflect.Value, index []int) (reflect.Value, bool) {
	for n, i := range index {
		if n > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

// EncodedField is a struct field as the encoder writes it (see [Marshal]):
// its key and Go type.
type EncodedField struct {
	Name string
	Type reflect.Type
	f    *field
}

// Value returns the field of struct value v and whether the encoder writes
// it: not when omitempty or omitzero omits it, nor behind a nil embedded
// pointer.
func (f EncodedField) Value(v reflect.Value) (reflect.Value, bool) {
	fv, ok := f.f.value(v)
	if !ok || f.f.omitEmpty && isEmptyValue(fv) || f.f.omitZero && isZeroValue(fv) {
		return fv, false
	}
	return fv, true
}

// Direct returns the index i of the field in its struct when Value(v) is
// always (v.Field(i), true): a field of the struct itself, not promoted
// from an embedded struct, that neither omitempty nor omitzero omits. ok
// is false for any other field.
func (f EncodedField) Direct() (i int, ok bool) {
	if f.f.direct < 0 || f.f.omitEmpty || f.f.omitZero {
		return -1, false
	}
	return f.f.direct, true
}

// EncodedFields returns the fields of struct type t that the encoder
// writes, in the order it writes them.
func EncodedFields(t reflect.Type) []EncodedField {
	si := cachedStructInfo(t)
	out := make([]EncodedField, len(si.fields))
	for i := range si.fields {
		out[i] = EncodedField{Name: si.fields[i].name, Type: si.fields[i].typ, f: &si.fields[i]}
	}
	return out
}

// OwnEncoding reports whether the encoder writes values of t by a rule of
// its own rather than by t's kind: time.Time (a Date), time.Duration, big.Int,
// RawValue, the generic model types and Go errors.
func OwnEncoding(t reflect.Type) bool {
	return t == timeType || t == durationType || t == bigIntType || t == rawType || modelTypes[t] ||
		t.Kind() == reflect.Pointer && modelTypes[t.Elem()] ||
		t.Kind() != reflect.Interface && t.Implements(errorType)
}
