package transport

import "go.uber.org/fx"

// Group is the fx value group through which transports are offered to Netron.
const Group = "titan.netron.transports"

// AsTransport annotates the constructor f, whose first result implements [Transport], so that fx
// provides the result as a Transport into the value group [Group] ("titan.netron.transports"):
//
//	fx.Provide(transport.AsTransport(tcp.New))
//
// f must be a function; fx reports any mismatch when the application is built.
func AsTransport(f any) any {
	return fx.Annotate(f, fx.As(new(Transport)), fx.ResultTags(`group:"`+Group+`"`))
}
