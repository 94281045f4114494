// Package natstransport is the old import path of Netron's NATS gateway and
// transport, which moved to github.com/titanframework/titan/modules/netron/nats.
// Every name here forwards to the new package; importing this one imports
// it, so nats:// stays registered.
//
// Deprecated: import github.com/titanframework/titan/modules/netron/nats.
// This package goes away in the next minor release.
package natstransport

import (
	natsgo "github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	gw "github.com/titanframework/titan/modules/netron/nats"
)

// Deprecated: use the constants of modules/netron/nats.
const (
	HeaderInbox    = gw.HeaderInbox
	HeaderCall     = gw.HeaderCall
	HeaderTimeout  = gw.HeaderTimeout
	HeaderMetadata = gw.HeaderMetadata
	HeaderCaller   = gw.HeaderCaller
	HeaderStream   = gw.HeaderStream
	HeaderWindow   = gw.HeaderWindow
	HeaderTarget   = gw.HeaderTarget
	HeaderInstance = gw.HeaderInstance
	HeaderAck      = gw.HeaderAck
	HeaderRetry    = gw.HeaderRetry
	HeaderOrigin   = gw.HeaderOrigin
	DefaultPrefix  = gw.DefaultPrefix
)

// Module is modules/netron/nats's Module.
//
// Deprecated: use nats.Module of modules/netron/nats.
var Module = gw.Module

type (
	// Deprecated: use nats.Bridge of modules/netron/nats.
	Bridge = gw.Bridge
	// Deprecated: use nats.BridgeOption of modules/netron/nats.
	BridgeOption = gw.BridgeOption
	// Deprecated: use nats.Config of modules/netron/nats.
	Config = gw.Config
	// Deprecated: use nats.Gateway of modules/netron/nats.
	Gateway = gw.Gateway
	// Deprecated: use nats.Transport of modules/netron/nats.
	Transport = gw.Transport
)

// Deprecated: use nats.CallSubject of modules/netron/nats.
func CallSubject(name, version, method string) string { return gw.CallSubject(name, version, method) }

// Deprecated: use nats.VersionToken of modules/netron/nats.
func VersionToken(version string) string { return gw.VersionToken(version) }

// Deprecated: use nats.NewBridge of modules/netron/nats.
func NewBridge(n *netron.Netron, nc *natsgo.Conn, opts ...BridgeOption) (*Bridge, error) {
	return gw.NewBridge(n, nc, opts...)
}

// Deprecated: use nats.WithPrefix of modules/netron/nats.
func WithPrefix(prefix string) BridgeOption { return gw.WithPrefix(prefix) }
