package netron

import (
	"fmt"
	"reflect"
	"strings"
)

// binaryLengthKeys are the jsonschema tag keys that bound a length.
var binaryLengthKeys = []string{"minLength", "maxLength", "minItems", "maxItems"}

// checkBinaryTags refuses a length bound (minLength, maxLength, minItems,
// maxItems) in the jsonschema tag of a binary data field ([]byte) of t,
// or of any type t holds: binary data's contract is a Node Buffer's, which
// does not carry the bound, so it would be silently not enforced.
func checkBinaryTags(t reflect.Type) error {
	return binaryTags(t, map[reflect.Type]bool{})
}

func binaryTags(t reflect.Type, seen map[reflect.Type]bool) error {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8 && f.Type != rawMessageType {
			for kv := range strings.SplitSeq(f.Tag.Get("jsonschema"), ",") {
				key, _, _ := strings.Cut(kv, "=")
				for _, k := range binaryLengthKeys {
					if strings.TrimSpace(key) == k {
						return fmt.Errorf("%s.%s: jsonschema tag %q: binary data ([]byte) is checked as a Node Buffer, without a length bound; check its length in the method", t, f.Name, kv)
					}
				}
			}
			continue
		}
		if err := binaryTags(f.Type, seen); err != nil {
			return err
		}
	}
	return nil
}
