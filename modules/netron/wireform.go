package netron

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// binaryLengthKeys are the jsonschema tag keys that bound a length.
var binaryLengthKeys = []string{"minLength", "maxLength", "minItems", "maxItems"}

var urlType = reflect.TypeFor[url.URL]()

// checkWireForm refuses, in t or in any type t holds, what a derived
// contract would describe otherwise than the encoder writes it, so that a
// call would fail on values the program sends itself, or a bound would go
// unchecked:
//   - a length bound (minLength, maxLength, minItems, maxItems) in the
//     jsonschema tag of binary data ([]byte): its contract is a Node
//     Buffer's, which does not carry the bound;
//   - a url.URL: the contract wants a URL string, the encoder writes the
//     struct's fields;
//   - the json tag option ",string" on a number or a boolean: the contract
//     wants a string, the encoder writes the value itself, as the
//     TypeScript Netron does;
//   - a struct of an unexported type embedded by pointer: it is written
//     (its fields, or itself under its json name), but the decoder cannot
//     allocate it, so the values would be lost;
//   - the json tag option ",inline" on a field encoding/json does not
//     flatten (all but an embedded struct without a name): the contract
//     wants the field's fields in its place, the encoder writes the field
//     under its name;
//   - a json tag naming a field "-" (`json:"-,"`), or the jsonschema tag
//     "-" on a field the encoder writes: the contract leaves it out;
//   - a map whose keys are neither strings nor integers: the encoder and
//     the decoder refuse it, so every call would fail;
//   - a time.Time, a big.Int or a value of the protocol's own types
//     embedded without a json name: the encoder writes it whole, under its
//     type's name, where the contract has its (absent) fields in its place,
//     and encoding/json writes the struct by the methods it promotes (an
//     embedded time.Time makes it a bare time);
//   - a struct that is an error (its own Error method, or one promoted from
//     an embedded field) outside the protocol package: the encoder writes
//     it as a JavaScript Error, only its message, where the contract wants
//     its fields.
func checkWireForm(t reflect.Type) error {
	return wireForm(t, t.String(), map[reflect.Type]bool{})
}

func wireForm(t reflect.Type, where string, seen map[reflect.Type]bool) error {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if err := errorValue(t, where); err != nil {
			return err
		}
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		if t.Kind() == reflect.Map && !wireMapKey(t.Key()) {
			return fmt.Errorf("%s: a map with %v keys cannot cross the wire (its keys are sent as strings): use string or integer keys, or protocol.Map", where, t.Key())
		}
		t = t.Elem()
	}
	if t == urlType {
		return fmt.Errorf("%s: a url.URL cannot cross the wire (Netron would send its fields, its contract wants a URL string): use a string and url.Parse", where)
	}
	if err := errorValue(t, where); err != nil {
		return err
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		jsonTag := strings.Split(f.Tag.Get("json"), ",")
		if jsonTag[0] == "-" && len(jsonTag) == 1 {
			continue
		}
		at := t.String() + "." + f.Name
		if jsonTag[0] != "-" && slices.Contains(jsonTag[1:], "inline") && !flattened(f, jsonTag[0]) {
			return fmt.Errorf("%s: json tag option \",inline\" is not supported: Netron, as encoding/json, sends the field under its name, its contract would want its fields in its place; drop the option, or embed the struct without a json name to flatten it", at)
		}
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		if strings.Split(f.Tag.Get("jsonschema"), ",")[0] == "-" {
			return fmt.Errorf("%s: jsonschema tag \"-\" leaves the field out of its contract, while Netron, as encoding/json, sends it: tag it json:\"-\" to leave it out", at)
		}
		if jsonTag[0] == "-" {
			return fmt.Errorf("%s: json tag %q names the field \"-\": Netron, as encoding/json, sends it under that name, its contract leaves it out; give it another name, or tag it json:\"-\" to leave it out", at, f.Tag.Get("json"))
		}
		if et := f.Type; f.Anonymous && jsonTag[0] == "" {
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct && protocol.OwnEncoding(et) {
				return fmt.Errorf("%s: an embedded %v cannot cross the wire: Netron sends it whole, under the name %q, which its contract does not describe, while encoding/json writes the struct by the methods %v promotes (a time.Time's MarshalJSON makes the struct a bare time); make it a named field, such as %s %v `json:\"%s\"`", at, f.Type, f.Name, f.Type, f.Name, f.Type, strings.ToLower(f.Name))
			}
		}
		if f.Anonymous && !f.IsExported() && f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			return fmt.Errorf("%s: an unexported struct embedded by pointer cannot be filled when a value arrives (its fields would be lost): embed %v by value, or export it", at, f.Type.Elem())
		}
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8 && f.Type != rawMessageType {
			for kv := range strings.SplitSeq(f.Tag.Get("jsonschema"), ",") {
				key, _, _ := strings.Cut(kv, "=")
				if slices.Contains(binaryLengthKeys, strings.TrimSpace(key)) {
					return fmt.Errorf("%s: jsonschema tag %q: binary data ([]byte) is checked as a Node Buffer, without a length bound; check its length in the method", at, kv)
				}
			}
			continue
		}
		if slices.Contains(jsonTag[1:], "string") && quotable(f.Type) {
			return fmt.Errorf("%s: json tag option \",string\" is not supported: Netron sends a %v as itself, not as a string (as the TypeScript Netron does); drop the option or make the field a string", at, f.Type)
		}
		if err := wireForm(f.Type, at, seen); err != nil {
			return err
		}
	}
	return nil
}

// errorValue refuses t, at where, when the encoder writes its values as a
// JavaScript Error (a struct with an Error method, its own or promoted)
// while its contract describes its fields. The protocol's own error types
// have their wire form.
func errorValue(t reflect.Type, where string) error {
	st := t
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct || st.PkgPath() == protocolPkg || !t.Implements(errorType) {
		return nil
	}
	if where != t.String() {
		where += ": " + t.String()
	}
	return fmt.Errorf("%s is an error (it has an Error method, its own or promoted from an embedded field): Netron sends it as a JavaScript Error, its message only, while its contract wants its fields; pass the fields in a struct without an Error method", where)
}

// protocolPkg is the import path of the protocol package, whose types have
// their own wire form.
var protocolPkg = reflect.TypeFor[protocol.Map]().PkgPath()

// flattened reports whether encoding/json writes the fields of field f,
// whose json name is name, in place of f: an embedded struct, or pointer
// to one, without a name.
func flattened(f reflect.StructField, name string) bool {
	t := f.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return f.Anonymous && name == "" && t.Kind() == reflect.Struct
}

// quotable reports whether encoding/json's ",string" option changes how a
// field of type t is written: a number or a boolean, or a pointer to one.
func quotable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// wireMapKey reports whether the encoder writes, and the decoder reads,
// map keys of type t (as strings, integers in decimal).
func wireMapKey(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}
