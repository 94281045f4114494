// Package validjson lets Netron's own packages transcode JSON text that
// they have already checked (a member of a body they validated whole)
// without paying for the check again.
package validjson

// AppendMsgpack is [protocol.AppendJSONDepth] without its validity check,
// set by package protocol when it is initialised. text must be valid JSON:
// on other text it may panic or encode nonsense.
var AppendMsgpack func(dst, text []byte, maxDepth int) ([]byte, error)
