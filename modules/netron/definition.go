package netron

import (
	"encoding/json"

	"github.com/google/uuid"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// newDefinitionID mints a definition id: a UUIDv7, like the original's.
func newDefinitionID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// schemaValue converts a JSON Schema document into a Netron value for the
// definition metadata.
func schemaValue(doc json.RawMessage) any {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return protocol.Undefined{}
	}
	out, err := protocol.FromJSON(v)
	if err != nil {
		return protocol.Undefined{}
	}
	return out
}

// metadata builds the definition's meta (NETRON-WIRE.md §7.2): name,
// version, properties and methods, each method with its TypeScript-style
// type names and, as Titan's extension, its argument names ("name", when
// given), its contract ("inputSchema", "outputSchema"), whether it
// streams, and "idempotent" when it was marked so (WithIdempotent).
func (s *service) metadata() protocol.Object {
	methods := protocol.Object{}
	for _, name := range s.order {
		m := s.methods[name]
		args := make([]any, len(m.args))
		for i, a := range m.args {
			arg := protocol.Object{{Key: "index", Value: i}, {Key: "type", Value: jsType(a)}}
			if i < len(m.argInfo) && m.argInfo[i].name != "" {
				arg = append(arg, protocol.Field{Key: "name", Value: m.argInfo[i].name})
			}
			args[i] = arg
		}
		typ := jsType(m.out)
		if m.kind == kindStream {
			typ = "Object" // what the TypeScript decorator reports for generators
		}
		mo := protocol.Object{
			{Key: "type", Value: typ},
			{Key: "arguments", Value: args},
			{Key: "stream", Value: m.kind == kindStream},
			{Key: "inputSchema", Value: schemaValue(m.inSchema)},
		}
		if m.outSchema != nil {
			mo = append(mo, protocol.Field{Key: "outputSchema", Value: schemaValue(m.outSchema)})
		}
		if m.idempotent {
			mo = append(mo, protocol.Field{Key: "idempotent", Value: true})
		}
		methods = append(methods, protocol.Field{Key: name, Value: mo})
	}
	meta := protocol.Object{
		{Key: "name", Value: s.name},
		{Key: "version", Value: s.version},
		{Key: "properties", Value: protocol.Object{}},
		{Key: "methods", Value: methods},
	}
	if len(s.transports) > 0 {
		ts := make([]any, len(s.transports))
		for i, t := range s.transports {
			ts[i] = t
		}
		meta = append(meta, protocol.Field{Key: "transports", Value: ts})
	}
	return meta
}

// definition returns the service's Definition as sent by query_interface.
func (s *service) definition(peerID string) *protocol.Definition {
	return &protocol.Definition{ID: s.defID, PeerID: peerID, Meta: s.meta}
}
