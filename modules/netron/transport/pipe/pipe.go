package pipe

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/titanframework/titan/modules/netron/transport"
)

// ErrUnsupported is returned by Listen and Dial outside Windows.
var ErrUnsupported = errors.New("pipe: named pipes are not supported on this OS (Windows only)")

func init() { transport.Register(New()) }

// Transport is the named-pipe transport. The zero value is ready to use.
type Transport struct{}

// New returns the named-pipe transport.
func New() *Transport { return &Transport{} }

// Name returns "pipe".
func (*Transport) Name() string { return "pipe" }

// Schemes returns ["pipe"].
func (*Transport) Schemes() []string { return []string{"pipe"} }

// Capabilities reports a streaming, bidirectional, binary, reconnectable
// transport.
func (*Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{
		Streaming: true, Bidirectional: true, Binary: true, Reconnection: true,
		MaxFrameSize: transport.DefaultMaxFrameSize,
	}
}

// pipePath maps pipe://name to \\.\pipe\name.
func pipePath(u *url.URL) (string, error) {
	name := u.Host
	if name == "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" || u.User != nil || u.RawQuery != "" {
		return "", fmt.Errorf("pipe: address %q: want pipe://name", u.Redacted())
	}
	return `\\.\pipe\` + name, nil
}

// Addr formats a pipe path as pipe://name.
func Addr(path string) string { return "pipe://" + strings.TrimPrefix(path, `\\.\pipe\`) }
