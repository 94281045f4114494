package transport

import (
	"crypto/tls"
	"fmt"
	"math"
)

// DefaultMaxFrameSize is the largest message accepted when [Options.MaxFrameSize] is zero:
// 16 MiB, the default maximum packet size of the Netron wire protocol.
const DefaultMaxFrameSize = 16 << 20

// Options configures a listener or a dialed connection. The zero value is valid: 16 MiB frames,
// no TLS.
type Options struct {
	// MaxFrameSize is the largest message in bytes that is sent or accepted. Zero means
	// [DefaultMaxFrameSize]; negative values and values that do not fit the u32 length prefix
	// are refused by [Options.Validate].
	MaxFrameSize int
	// TLS, when not nil, wraps stream connections in TLS (tls.Server when listening, tls.Client
	// when dialing). Nil means plain connections. Transports that have no TLS refuse a non-nil
	// value rather than silently ignoring it.
	TLS *tls.Config
}

// Validate reports a misconfigured field, naming it.
func (o Options) Validate() error {
	if o.MaxFrameSize < 0 {
		return fmt.Errorf("transport: Options.MaxFrameSize is %d; it must be 0 (default %d) or positive",
			o.MaxFrameSize, DefaultMaxFrameSize)
	}
	if uint64(o.MaxFrameSize) > math.MaxUint32 {
		return fmt.Errorf("transport: Options.MaxFrameSize is %d; the length prefix allows at most %d",
			o.MaxFrameSize, uint64(math.MaxUint32))
	}
	return nil
}

// FrameLimit returns the effective maximum message size: MaxFrameSize, or
// [DefaultMaxFrameSize] when it is zero.
func (o Options) FrameLimit() int {
	if o.MaxFrameSize == 0 {
		return DefaultMaxFrameSize
	}
	return o.MaxFrameSize
}
