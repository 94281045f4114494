package transport

import "errors"

// ErrFrameTooLarge is matched (with [errors.Is]) by the errors returned when a message exceeds
// the maximum frame size: by [Conn.WriteMessages] before anything is written, and by
// [Conn.ReadMessage] when the peer declares a longer frame (the connection is then closed).
var ErrFrameTooLarge = errors.New("transport: frame too large")

// ErrUnknownScheme is matched by the errors of [Lookup], [Listen] and [Dial] for a URL scheme no
// transport has registered.
var ErrUnknownScheme = errors.New("transport: unknown scheme")
