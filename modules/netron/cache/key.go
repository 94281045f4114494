package cache

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/titanframework/titan/modules/netron"
)

// absent stands for the length of a metadata value the caller did not
// send, so that a missing key and an empty value make different keys.
const absent = math.MaxUint32

// callKey builds the key a call's result is kept under: service, method,
// caller identity, the values of the metadata keys the method varies by
// ([VaryBy]) and the encoded arguments. The service and method end with a
// zero byte (Invalidate reads the service back); everything after is
// prefixed with its length, so that no two calls meet on one key,
// whatever bytes an identity or a metadata value holds.
type callKey struct {
	call     *netron.Call
	identity string
	vary     []string          // metadata keys, in the order VaryBy named them
	md       map[string]string // the call's incoming metadata
}

// size returns the length of the key in bytes.
func (k *callKey) size() int {
	n := len(k.call.Service) + 1 + len(k.call.Method) + 1 + 4 + len(k.identity)
	for _, name := range k.vary {
		n += 4 + len(k.md[name])
	}
	for _, r := range k.call.RawArgs() {
		n += 4 + len(r)
	}
	return n
}

// build returns the key; size is what size returned.
func (k *callKey) build(size int) string {
	var b strings.Builder
	b.Grow(size)
	b.WriteString(k.call.Service)
	b.WriteByte(0)
	b.WriteString(k.call.Method)
	b.WriteByte(0)
	writeLen(&b, uint32(len(k.identity)))
	b.WriteString(k.identity)
	for _, name := range k.vary {
		v, ok := k.md[name]
		if !ok {
			writeLen(&b, absent)
			continue
		}
		writeLen(&b, uint32(len(v)))
		b.WriteString(v)
	}
	for _, r := range k.call.RawArgs() {
		writeLen(&b, uint32(len(r)))
		b.Write(r)
	}
	return b.String()
}

// writeLen writes n in four bytes, most significant first.
func writeLen(b *strings.Builder, n uint32) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], n)
	b.Write(l[:])
}
