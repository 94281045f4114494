package http

import (
	"bufio"
	"context"
	"io"

	"github.com/titanframework/titan/modules/netron"
)

// DecodeAnswer exposes decodeAnswer to the fuzz target.
var DecodeAnswer = decodeAnswer

// NewSSEReader exposes the reader of streams answered as Server-Sent
// Events to the fuzz target: body read through a buffer of size bytes,
// lines bounded by max.
func NewSSEReader(body io.Reader, size int, max int64) netron.ItemReader {
	return &sseReader{ctx: context.Background(), cancel: func() {}, body: io.NopCloser(body), rd: bufio.NewReaderSize(body, size), max: max}
}

// BodyBytesHeld returns the bytes of request bodies h holds now, as its
// budget (WithMaxBodyMemory) counts them.
func (h *Handler) BodyBytesHeld() int64 { return h.bodies.held.Load() }
