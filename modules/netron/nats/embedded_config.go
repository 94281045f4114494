package nats

import (
	"fmt"
	"strconv"

	"github.com/invopop/jsonschema"
)

// DefaultEmbeddedPort is the port of the machine's embedded NATS server
// when nats.embedded gives none.
const DefaultEmbeddedPort = 4248

// Embedded is nats.embedded: whether the processes of this machine share
// one NATS server that the first of them runs inside itself (package
// discovery/nats/embedded does so), and on which port of 127.0.0.1. In
// configuration it is true, false, or an object {port: 4300} (which means
// true; {enabled: false, port: 4300} keeps it off), so that both
// nats.embedded: true and nats.embedded.port: 4300 read as one expects.
// The zero value is off.
type Embedded struct {
	Enabled bool
	// Port is the server's port on 127.0.0.1; 0 is DefaultEmbeddedPort.
	Port int
}

// PortOrDefault returns Port, or DefaultEmbeddedPort when it is 0.
func (e Embedded) PortOrDefault() int {
	if e.Port == 0 {
		return DefaultEmbeddedPort
	}
	return e.Port
}

// JSONSchema gives the configuration's schema: a boolean, or an object
// with port and enabled.
func (Embedded) JSONSchema() *jsonschema.Schema {
	props := jsonschema.NewProperties()
	props.Set("enabled", &jsonschema.Schema{Type: "boolean", Description: "Off when false (default true once the object is given)"})
	props.Set("port", &jsonschema.Schema{Type: "integer", Minimum: "1", Maximum: "65535",
		Description: fmt.Sprintf("Port of the machine's embedded NATS server on 127.0.0.1 (default %d)", DefaultEmbeddedPort)})
	return &jsonschema.Schema{
		AnyOf:                []*jsonschema.Schema{{Type: "boolean"}, {Type: "object"}},
		Properties:           props,
		AdditionalProperties: jsonschema.FalseSchema,
		Description:          "Share one NATS server per machine, run inside the first process (true, or {port: N})",
	}
}

// UnmarshalMapstructure reads the configuration's value (the config
// module decodes sections with mapstructure): a boolean, or an object.
func (e *Embedded) UnmarshalMapstructure(v any) error {
	switch t := v.(type) {
	case nil:
		*e = Embedded{}
	case bool:
		*e = Embedded{Enabled: t}
	case string:
		b, err := strconv.ParseBool(t)
		if err != nil {
			return fmt.Errorf("nats.embedded: want true, false or {port: N}, got %q", t)
		}
		*e = Embedded{Enabled: b}
	case map[string]any:
		out := Embedded{Enabled: true}
		for k, val := range t {
			switch k {
			case "enabled":
				b, ok := val.(bool)
				if !ok {
					var err error
					if b, err = strconv.ParseBool(fmt.Sprint(val)); err != nil {
						return fmt.Errorf("nats.embedded.enabled: want true or false, got %v", val)
					}
				}
				out.Enabled = b
			case "port":
				p, err := strconv.Atoi(fmt.Sprint(val))
				if err != nil || p < 1 || p > 65535 {
					return fmt.Errorf("nats.embedded.port: want a port (1 to 65535), got %v", val)
				}
				out.Port = p
			default:
				return fmt.Errorf("nats.embedded.%s: unknown key (want port or enabled)", k)
			}
		}
		*e = out
	default:
		return fmt.Errorf("nats.embedded: want true, false or {port: N}, got %v", v)
	}
	return nil
}
