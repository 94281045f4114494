package transport

import "errors"

// ErrFrameTooLarge is matched (with [errors.Is]) by the errors returned when a message exceeds
// the maximum frame size: by [Conn.WriteMessages] before anything is written, and by
// [Conn.ReadMessage] when the peer declares a longer frame (the connection is then closed).
var ErrFrameTooLarge = errors.New("transport: frame too large")

// ErrFrameTimeout is matched by the error [Conn.ReadMessage] returns when a message whose first
// byte had arrived was not completed in time ([Options.FrameTimeout], [Options.FrameMinRate]);
// the connection is then closed. HTTP gateways answer a request body that stalls the same way
// with 408.
var ErrFrameTimeout = errors.New("transport: frame not completed in time")

// ErrUnknownScheme is matched by the errors of [Lookup], [Listen] and [Dial] for a URL scheme no
// transport has registered.
var ErrUnknownScheme = errors.New("transport: unknown scheme")
