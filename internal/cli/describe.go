package cli

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// serviceDoc describes one service, read from its definition's metadata; it
// is also the shape of a service in `titan inspect --json`.
type serviceDoc struct {
	Name       string      `json:"name"`
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	Transports []string    `json:"transports,omitempty"`
	Methods    []methodDoc `json:"methods"`
}

// methodDoc describes one method. A method without OutputSchema is void (or
// its server publishes no contracts: a TypeScript server).
type methodDoc struct {
	Name         string `json:"name"`
	Signature    string `json:"signature"`
	Stream       bool   `json:"stream"`
	InputSchema  any    `json:"inputSchema,omitempty"`
	OutputSchema any    `json:"outputSchema,omitempty"`
}

// qualified returns "name@version".
func (s *serviceDoc) qualified() string { return netron.QualifiedName(s.Name, s.Version) }

// method returns the method named name, or a not_found error listing the
// methods the service has.
func (s *serviceDoc) method(name string) (*methodDoc, error) {
	for i := range s.Methods {
		if s.Methods[i].Name == name {
			return &s.Methods[i], nil
		}
	}
	names := make([]string, len(s.Methods))
	for i, m := range s.Methods {
		names[i] = m.Name
	}
	slices.Sort(names)
	return nil, netron.MethodNotFound(s.qualified(), name, names)
}

// describe reads a definition's metadata (NETRON-WIRE.md §7.2, with
// Titan's per-method "stream", "inputSchema" and "outputSchema"). Methods
// keep the order of the metadata.
func describe(def *protocol.Definition) (serviceDoc, error) {
	meta, ok := def.Meta.(protocol.Object)
	if !ok {
		return serviceDoc{}, netron.Errorf(netron.CodeInternal, "definition %s: metadata is %T, want an object", def.ID, def.Meta)
	}
	s := serviceDoc{
		Name:    metaString(meta, "name"),
		Version: metaString(meta, "version"),
		ID:      def.ID,
		Methods: []methodDoc{},
	}
	if ts, ok := get[[]any](meta, "transports"); ok {
		for _, t := range ts {
			if t, ok := t.(string); ok {
				s.Transports = append(s.Transports, t)
			}
		}
	}
	methods, _ := get[protocol.Object](meta, "methods")
	for _, f := range methods {
		entry, _ := f.Value.(protocol.Object)
		m, err := describeMethod(f.Key, entry)
		if err != nil {
			return serviceDoc{}, netron.Errorf(netron.CodeInternal, "definition of %s: method %s: %v", s.qualified(), f.Key, err)
		}
		s.Methods = append(s.Methods, m)
	}
	return s, nil
}

func describeMethod(name string, entry protocol.Object) (methodDoc, error) {
	m := methodDoc{Name: name}
	m.Stream, _ = get[bool](entry, "stream")
	var err error
	if v, ok := entry.Get("inputSchema"); ok && !isUndefined(v) {
		if m.InputSchema, err = protocol.ToJSON(v); err != nil {
			return m, fmt.Errorf("input schema: %w", err)
		}
	}
	if v, ok := entry.Get("outputSchema"); ok && !isUndefined(v) {
		if m.OutputSchema, err = protocol.ToJSON(v); err != nil {
			return m, fmt.Errorf("output schema: %w", err)
		}
	}
	// The TypeScript-style type names, for servers without contracts.
	var argTypes []string
	if args, ok := get[[]any](entry, "arguments"); ok {
		for _, a := range args {
			o, _ := a.(protocol.Object)
			argTypes = append(argTypes, cmp.Or(metaString(o, "type"), "any"))
		}
	}
	m.Signature = signature(m, argTypes, metaString(entry, "type"))
	return m, nil
}

// get returns o[key] as a T.
func get[T any](o protocol.Object, key string) (T, bool) {
	v, ok := o.Get(key)
	t, ok2 := v.(T)
	return t, ok && ok2
}

// metaString returns o[key] when it is a string, else "".
func metaString(o any, key string) string {
	obj, _ := o.(protocol.Object)
	s, _ := get[string](obj, key)
	return s
}

func isUndefined(v any) bool {
	_, ok := v.(protocol.Undefined)
	return ok
}
