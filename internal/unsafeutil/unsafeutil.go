// Package unsafeutil holds every use of package unsafe in Titan, each a
// measured win with a test that holds it to the safe code it replaces:
//
//   - [String]: a string that shares a byte slice's memory, for parsers
//     that look a token up or parse a number without copying it, and for
//     the contract checker, which reads the strings of an encoded value in
//     place (modules/netron/internal/contract).
//
// No func type is ever reinterpreted here: methods are called through
// their method values (package netron's fastcall.go), on worker
// goroutines whose stacks are already grown.
package unsafeutil

import "unsafe"

// String returns a string sharing b's memory: b must not change while the
// string (or any string sliced from it) is in use.
func String(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
