// Package embedded is the old import path of the in-process NATS server,
// which moved to github.com/titanframework/titan/modules/netron/nats/embedded.
//
// Deprecated: import github.com/titanframework/titan/modules/netron/nats/embedded.
// This package goes away in the next minor release.
package embedded

import moved "github.com/titanframework/titan/modules/netron/nats/embedded"

type (
	// Deprecated: use embedded.Option of modules/netron/nats/embedded.
	Option = moved.Option
	// Deprecated: use embedded.Server of modules/netron/nats/embedded.
	Server = moved.Server
)

// Deprecated: use embedded.Start of modules/netron/nats/embedded.
func Start(opts ...Option) (*Server, error) { return moved.Start(opts...) }

// Deprecated: use embedded.WithJetStream of modules/netron/nats/embedded.
func WithJetStream(dir string) Option { return moved.WithJetStream(dir) }

// Deprecated: use embedded.WithMaxPayload of modules/netron/nats/embedded.
func WithMaxPayload(bytes int32) Option { return moved.WithMaxPayload(bytes) }

// Deprecated: use embedded.WithPort of modules/netron/nats/embedded.
func WithPort(port int) Option { return moved.WithPort(port) }
