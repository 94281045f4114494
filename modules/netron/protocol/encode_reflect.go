package protocol

import (
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// encFunc encodes one value of a fixed Go type.
type encFunc func(e *encoder, v reflect.Value) error

var encoderCache sync.Map // reflect.Type -> encFunc

// typeEncoder returns the cached encoder for t, building it on first use.
// Recursive types get a forwarding encoder while theirs is being built.
func typeEncoder(t reflect.Type) encFunc {
	if f, ok := encoderCache.Load(t); ok {
		return f.(encFunc)
	}
	var (
		wg sync.WaitGroup
		f  encFunc
	)
	wg.Add(1)
	fi, loaded := encoderCache.LoadOrStore(t, encFunc(func(e *encoder, v reflect.Value) error {
		wg.Wait()
		return f(e, v)
	}))
	if loaded {
		return fi.(encFunc)
	}
	f = newTypeEncoder(t)
	wg.Done()
	encoderCache.Store(t, f)
	return f
}

func newTypeEncoder(t reflect.Type) encFunc {
	switch {
	case t == timeType:
		return timeEncoder
	case t == durationType:
		return durationEncoder
	case t == bigIntType:
		return bigIntEncoder
	case t == rawType:
		return func(e *encoder, v reflect.Value) error {
			e.buf = append(e.buf, v.Bytes()...)
			return nil
		}
	case modelTypes[t]:
		return func(e *encoder, v reflect.Value) error { return e.value(v.Interface()) }
	case t.Kind() == reflect.Pointer && modelTypes[t.Elem()]:
		// Handled by ptrEncoder below.
	case t.Kind() != reflect.Interface && t.Implements(errorType):
		// Go errors other than the Netron error types travel as ext 126.
		return func(e *encoder, v reflect.Value) error {
			if v.Kind() == reflect.Pointer && v.IsNil() {
				e.buf = append(e.buf, 0xc0)
				return nil
			}
			if !v.CanInterface() {
				return fmt.Errorf("%w: cannot encode Go error type %s embedded unexported with a json name: its Error method cannot be called", ErrUnsupported, t)
			}
			return e.value(v.Interface())
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(e *encoder, v reflect.Value) error { e.bool(v.Bool()); return nil }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(e *encoder, v reflect.Value) error { e.int64(v.Int()); return nil }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(e *encoder, v reflect.Value) error { e.uint64(v.Uint()); return nil }
	case reflect.Float32, reflect.Float64:
		return func(e *encoder, v reflect.Value) error { e.float64(v.Float()); return nil }
	case reflect.String:
		return func(e *encoder, v reflect.Value) error { e.str(v.String()); return nil }
	case reflect.Interface:
		return interfaceEncoder
	case reflect.Pointer:
		return ptrEncoder(t)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(e *encoder, v reflect.Value) error { e.bin(v.Bytes()); return nil }
		}
		return sliceEncoder(t)
	case reflect.Array:
		return sliceEncoder(t)
	case reflect.Map:
		return mapEncoder(t)
	case reflect.Struct:
		return structEncoder(t)
	}
	return func(e *encoder, v reflect.Value) error {
		return fmt.Errorf("%w: cannot encode Go type %s", ErrUnsupported, t)
	}
}

func timeEncoder(e *encoder, v reflect.Value) error {
	if v.CanAddr() {
		return e.date(*v.Addr().Interface().(*time.Time))
	}
	return e.date(v.Interface().(time.Time))
}

func bigIntEncoder(e *encoder, v reflect.Value) error {
	if v.CanAddr() {
		return e.bigInt(v.Addr().Interface().(*big.Int))
	}
	x := v.Interface().(big.Int)
	return e.bigInt(&x)
}

func (e *encoder) indirect() error {
	e.ptrs++
	if e.ptrs > maxPtrChain {
		return fmt.Errorf("%w: more than %d pointer indirections (cycle?)", ErrTooDeep, maxPtrChain)
	}
	return nil
}

func interfaceEncoder(e *encoder, v reflect.Value) error {
	if v.IsNil() {
		e.buf = append(e.buf, 0xc0)
		return nil
	}
	if err := e.indirect(); err != nil {
		return err
	}
	err := e.value(v.Elem().Interface())
	e.ptrs--
	return err
}

func ptrEncoder(t reflect.Type) encFunc {
	elem := typeEncoder(t.Elem())
	return func(e *encoder, v reflect.Value) error {
		if v.IsNil() {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		if err := e.indirect(); err != nil {
			return err
		}
		err := elem(e, v.Elem())
		e.ptrs--
		return err
	}
}

func sliceEncoder(t reflect.Type) encFunc {
	elem := typeEncoder(t.Elem())
	return func(e *encoder, v reflect.Value) error {
		if err := e.enter(); err != nil {
			return err
		}
		n := v.Len()
		e.arrayHeader(n)
		for i := range n {
			if err := elem(e, v.Index(i)); err != nil {
				return err
			}
		}
		e.leave()
		return nil
	}
}

type mapEntry struct {
	key string
	val reflect.Value
}

// mapKeyString returns how a map key of type kt is written (as a string,
// integers in decimal), nil for the key types the encoder refuses.
func mapKeyString(kt reflect.Type) func(reflect.Value) string {
	switch kt.Kind() {
	case reflect.String:
		return func(k reflect.Value) string { return k.String() }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(k reflect.Value) string { return strconv.FormatInt(k.Int(), 10) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(k reflect.Value) string { return strconv.FormatUint(k.Uint(), 10) }
	}
	return nil
}

func mapEncoder(t reflect.Type) encFunc {
	kt := t.Key()
	keyString := mapKeyString(kt)
	if keyString == nil {
		return func(e *encoder, v reflect.Value) error {
			return fmt.Errorf("%w: cannot encode map key type %s (use protocol.Map)", ErrUnsupported, kt)
		}
	}
	elem := typeEncoder(t.Elem())
	return func(e *encoder, v reflect.Value) error {
		if err := e.enter(); err != nil {
			return err
		}
		n := v.Len()
		if err := e.mapHeader(n); err != nil {
			return err
		}
		entries := make([]mapEntry, 0, n)
		iter := v.MapRange()
		for iter.Next() {
			entries = append(entries, mapEntry{key: keyString(iter.Key()), val: iter.Value()})
		}
		slices.SortFunc(entries, func(a, b mapEntry) int { return strings.Compare(a.key, b.key) })
		for i := range entries {
			e.str(entries[i].key)
			if err := elem(e, entries[i].val); err != nil {
				return err
			}
		}
		e.leave()
		return nil
	}
}

type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// isZeroValue reports whether omitzero omits v: by its IsZero method, or
// when it has none, or it cannot be called (on a struct of an unexported
// type embedded with a json name), by its being the zero value.
func isZeroValue(v reflect.Value) bool {
	if v.Type().Implements(isZeroerType) && v.CanInterface() {
		if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
			return true
		}
		return v.Interface().(isZeroer).IsZero()
	}
	return v.IsZero()
}

func structEncoder(t reflect.Type) encFunc {
	si := cachedStructInfo(t)
	encs := make([]encFunc, len(si.fields))
	omits := false
	for i := range si.fields {
		encs[i] = typeEncoder(si.fields[i].typ)
		omits = omits || si.fields[i].omitEmpty || si.fields[i].omitZero || len(si.fields[i].index) > 1
	}
	skip := func(f *field, fv reflect.Value) bool {
		return (f.omitEmpty && isEmptyValue(fv)) || (f.omitZero && isZeroValue(fv))
	}
	return func(e *encoder, v reflect.Value) error {
		if err := e.enter(); err != nil {
			return err
		}
		n := len(si.fields)
		if omits {
			n = 0
			for i := range si.fields {
				f := &si.fields[i]
				fv, ok := f.value(v)
				if ok && !skip(f, fv) {
					n++
				}
			}
		}
		if err := e.mapHeader(n); err != nil {
			return err
		}
		for i := range si.fields {
			f := &si.fields[i]
			var fv reflect.Value
			if f.direct >= 0 {
				fv = v.Field(f.direct) // f.value, inlined
			} else {
				var ok bool
				if fv, ok = fieldValue(v, f.index); !ok {
					continue
				}
			}
			if (f.omitEmpty || f.omitZero) && skip(f, fv) {
				continue
			}
			e.buf = append(e.buf, f.key...)
			if err := encs[i](e, fv); err != nil {
				return err
			}
		}
		e.leave()
		return nil
	}
}
