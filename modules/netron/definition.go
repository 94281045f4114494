package netron

import (
	"cmp"
	"encoding/json"
	"fmt"

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
		for i, typ := range m.argTypes() {
			arg := protocol.Object{{Key: "index", Value: i}, {Key: "type", Value: typ}}
			if i < len(m.argInfo) && m.argInfo[i].name != "" {
				arg = append(arg, protocol.Field{Key: "name", Value: m.argInfo[i].name})
			}
			args[i] = arg
		}
		mo := protocol.Object{
			{Key: "type", Value: m.resultType()},
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

// argTypes are the TypeScript-style type names of the method's arguments
// in the definition's metadata.
func (m *method) argTypes() []string {
	types := make([]string, len(m.args))
	for i, a := range m.args {
		types[i] = jsType(a)
	}
	return types
}

// resultType is the TypeScript-style type name of the method's result in
// the definition's metadata.
func (m *method) resultType() string {
	if m.kind == kindStream {
		return "Object" // what the TypeScript decorator reports for generators
	}
	return jsType(m.out)
}

// definition returns the service's Definition as sent by query_interface.
func (s *service) definition(peerID string) *protocol.Definition {
	return &protocol.Definition{ID: s.defID, PeerID: peerID, Meta: s.meta}
}

// DescribeDefinition reads a service's definition, as a peer fetches it
// ([Peer.Definition]), into the description [Netron.Describe] gives of
// the services of this process: the metadata of NETRON-WIRE.md §7.2 with
// Titan's per-method "stream", "inputSchema" and "outputSchema"; tools
// such as the CLI and the development UI read remote services so.
//
// Methods keep the metadata's order. A schema is the JSON text of the
// metadata's, its keys in that order; it is nil when the metadata has
// none (a TypeScript server publishes no contracts: ArgTypes and
// ResultType, its type names, remain). What the metadata does not carry
// stays zero: GoName, HTTPPath and Extensions.
//
// The metadata comes from the other side of a connection: whatever it
// holds, DescribeDefinition returns a description or an error with
// [CodeInternal] that says where the metadata is wrong; it does not
// panic.
func DescribeDefinition(def *protocol.Definition) (ServiceDesc, error) {
	meta, ok := def.Meta.(protocol.Object)
	if !ok {
		return ServiceDesc{}, Errorf(CodeInternal, "the definition %s has metadata of type %T, want an object", def.ID, def.Meta)
	}
	s := ServiceDesc{Name: objString(meta, "name"), Version: objString(meta, "version"), ID: def.ID}
	if ts, ok := metaField[[]any](meta, "transports"); ok {
		for _, t := range ts {
			if t, ok := t.(string); ok {
				s.Transports = append(s.Transports, t)
			}
		}
	}
	methods, _ := metaField[protocol.Object](meta, "methods")
	for _, f := range methods {
		m, err := describeMethodEntry(f.Key, f.Value)
		if err != nil {
			return ServiceDesc{}, Errorf(CodeInternal, "the definition of %s: method %s: %v", QualifiedName(s.Name, s.Version), f.Key, err)
		}
		s.Methods = append(s.Methods, m)
	}
	return s, nil
}

// describeMethodEntry reads the metadata entry of the method name.
func describeMethodEntry(name string, v any) (MethodDesc, error) {
	entry, _ := v.(protocol.Object)
	m := MethodDesc{Name: name, ResultType: objString(entry, "type")}
	m.Stream, _ = metaField[bool](entry, "stream")
	var err error
	if m.Input, err = schemaJSON(entry, "inputSchema"); err != nil {
		return m, err
	}
	if m.Output, err = schemaJSON(entry, "outputSchema"); err != nil {
		return m, err
	}
	m.Void = !m.Stream && m.Output == nil && m.ResultType == "void"
	if args, ok := metaField[[]any](entry, "arguments"); ok {
		m.Arity = len(args)
		m.ArgTypes = make([]string, len(args))
		for i, a := range args {
			m.ArgTypes[i] = cmp.Or(objString(a, "type"), "any")
		}
	}
	return m, nil
}

// schemaJSON returns the JSON text of the schema at o[key], nil when
// there is none.
func schemaJSON(o protocol.Object, key string) (json.RawMessage, error) {
	v, ok := o.Get(key)
	if !ok {
		return nil, nil
	}
	if _, undefined := v.(protocol.Undefined); undefined || v == nil {
		return nil, nil
	}
	b, err := protocol.AppendValueJSON(nil, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return b, nil
}

// metaField returns o[key] as a T.
func metaField[T any](o protocol.Object, key string) (T, bool) {
	v, ok := o.Get(key)
	t, ok2 := v.(T)
	return t, ok && ok2
}
