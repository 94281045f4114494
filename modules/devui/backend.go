package devui

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Backend is what the UI shows and calls: the app's own Netron (the
// module's, see [Module]) or a remote app through a peer ([Remote], which
// `titan dev` serves). Its methods are called concurrently.
//
// Every method but Info takes a context made by Caller: what is shown
// and run is what that caller may see and run.
type Backend interface {
	// Info describes the backend for the page's header.
	Info() Info
	// Caller returns ctx carrying the caller who brought c (the bearer
	// token the page sends): the calls run as them and the services are
	// shown as they may see them. Refused credentials are an error.
	Caller(ctx context.Context, c netron.Credentials) (context.Context, error)
	// Services describes the services the caller may see, each with the
	// methods the caller may call, sorted by name and version.
	Services(ctx context.Context) ([]Service, error)
	// Call runs a unary or void method with encoded positional
	// arguments and returns its result (nil or [protocol.Undefined] for a
	// void method): a Netron or Go value that [protocol.AppendValueJSON]
	// writes.
	Call(ctx context.Context, service, method string, args []protocol.RawValue) (any, error)
	// Stream runs a stream method; the iterator yields its items (Netron
	// or Go values) and ends at the first error, which it yields. It ends
	// when ctx does; breaking out of the loop cancels the stream. An item
	// may be valid only until the next one is read (a remote stream's are
	// encoded values in a buffer it reuses).
	Stream(ctx context.Context, service, method string, args []protocol.RawValue) (iter.Seq2[any, error], error)
	// Subscribe calls h for every event whose name matches pattern until
	// the returned function is called. h must not block: it may run on
	// the goroutine of the code that emits the event.
	Subscribe(ctx context.Context, pattern string, h netron.EventHandler) (unsubscribe func(), err error)
	// Peers lists the connected peers.
	Peers(ctx context.Context) ([]PeerInfo, error)
	// Metrics summarises the app's metrics.
	Metrics(ctx context.Context) (Glance, error)
}

// Info describes a backend.
type Info struct {
	// App names what the UI shows: "this app", or the remote address.
	App string `json:"app"`
	// ID is the Netron id of the app.
	ID string `json:"id"`
	// Remote is true for an app reached through a peer (titan dev).
	Remote bool `json:"remote"`
	// Patterns is true when event subscriptions may use wildcards ("*"
	// for one token, a final ">" for the rest); a remote app sends events
	// by exact name only.
	Patterns bool `json:"patterns"`
}

// Service describes a service as the page shows it.
type Service struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	ID      string `json:"id"`
	// Transports restricts the service to these listeners; empty means
	// all.
	Transports []string `json:"transports,omitempty"`
	Methods    []Method `json:"methods"`
}

// Method describes a method: its kind and its contracts.
type Method struct {
	Name string `json:"name"`
	// Stream marks a server-streaming method; Void one without a result.
	Stream bool `json:"stream"`
	Void   bool `json:"void"`
	// Input is the JSON Schema of the positional arguments (an array
	// schema with prefixItems), Output the schema of the result or of
	// each stream item; either is absent when the server publishes none
	// (a TypeScript server).
	Input  json.RawMessage `json:"input,omitempty"`
	Output json.RawMessage `json:"output,omitempty"`
}

// serviceOf returns the page's description of the service d, with the
// methods that show reports true for.
func serviceOf(d netron.ServiceDesc, show func(method string) bool) Service {
	s := Service{Name: d.Name, Version: d.Version, ID: d.ID, Transports: d.Transports, Methods: []Method{}}
	for _, m := range d.Methods {
		if show(m.Name) {
			s.Methods = append(s.Methods, Method{Name: m.Name, Stream: m.Stream, Void: m.Void, Input: m.Input, Output: m.Output})
		}
	}
	return s
}

// PeerInfo describes a connected peer.
type PeerInfo struct {
	ID         string `json:"id"`
	RemoteAddr string `json:"remoteAddr"`
	Transport  string `json:"transport"`
	// Dialled is true for a peer this side dialled, false for one that
	// dialled it.
	Dialled   bool `json:"dialled"`
	Connected bool `json:"connected"`
	// InFlight counts the calls and streams this side has open on the
	// peer.
	InFlight int `json:"inFlight"`
}
