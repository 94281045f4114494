// Package wirevectors holds a copy of shared/protocol/vectors.json, the
// byte vectors and recorded sessions of the original TypeScript Netron, so
// that the wire tests run from a plain clone of the module. Only tests
// import it.
package wirevectors

import _ "embed"

// JSON is the text of vectors.json.
//
//go:embed vectors.json
var JSON []byte
