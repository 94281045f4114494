package cli

import (
	"bytes"
	"encoding/json"
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

// describe reads a definition's metadata (netron.DescribeDefinition) into
// the shape of `titan inspect --json`. Methods keep the order of the
// metadata; a signature is made from the contracts or, without them (a
// TypeScript server), from the metadata's type names.
func describe(def *protocol.Definition) (serviceDoc, error) {
	d, err := netron.DescribeDefinition(def)
	if err != nil {
		return serviceDoc{}, err
	}
	s := serviceDoc{Name: d.Name, Version: d.Version, ID: d.ID, Transports: d.Transports, Methods: []methodDoc{}}
	for _, md := range d.Methods {
		m := methodDoc{Name: md.Name, Stream: md.Stream}
		if m.InputSchema, err = decodeSchema(md.Input); err != nil {
			return serviceDoc{}, netron.Errorf(netron.CodeInternal, "the definition of %s: method %s: input schema: %v", s.qualified(), md.Name, err)
		}
		if m.OutputSchema, err = decodeSchema(md.Output); err != nil {
			return serviceDoc{}, netron.Errorf(netron.CodeInternal, "the definition of %s: method %s: output schema: %v", s.qualified(), md.Name, err)
		}
		m.Signature = signature(m, md.ArgTypes, md.ResultType)
		s.Methods = append(s.Methods, m)
	}
	return s, nil
}

// decodeSchema decodes a schema's JSON text as signature reads it and
// `titan inspect --json` prints it (numbers as json.Number, as written);
// nil stays nil.
func decodeSchema(text json.RawMessage) (any, error) {
	if text == nil {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
