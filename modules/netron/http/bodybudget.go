package http

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/internal/logevery"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// bodyBudget bounds the bytes of request bodies a gateway holds at once
// (WithMaxBodyMemory): each request reserves what its body's buffer takes
// before taking it, and releases it when its handler is done with the body.
// It is safe for concurrent use.
type bodyBudget struct {
	limit   int64
	held    atomic.Int64
	refused logevery.Limiter // the warnings about refused requests
}

// errBodyBudget is the error of [bodyBudget.read] when the budget cannot
// grant the bytes a body needs.
var errBodyBudget = errors.New("request bodies held reach the gateway's limit")

// reserve takes n bytes of the budget, or reports false, taking nothing,
// when they would pass its limit.
func (b *bodyBudget) reserve(n int64) bool {
	for {
		held := b.held.Load()
		if held+n > b.limit {
			return false
		}
		if b.held.CompareAndSwap(held, held+n) {
			return true
		}
	}
}

// release gives back n bytes that reserve took.
func (b *bodyBudget) release(n int64) { b.held.Add(-n) }

// keep copies args into one buffer of their size and holds its bytes of
// the budget instead of held, those of the body they were read from: what
// a call that runs long after its body is read (a stream) keeps. It
// returns the copies and what is held for them.
func (b *bodyBudget) keep(args []protocol.RawValue, held int64) ([]protocol.RawValue, int64) {
	size := 0
	for _, a := range args {
		size += len(a)
	}
	buf := make([]byte, 0, size)
	kept := make([]protocol.RawValue, len(args))
	for i, a := range args {
		buf = append(buf, a...)
		kept[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	b.held.Add(int64(size) - held)
	return kept, int64(size)
}

// read reads rd to its end into a buffer that only grows by what the
// budget grants. held is what the caller has reserved for the body (its
// announced length, or a first part); the buffer starts at up to 64 KiB of
// it, so that a header alone makes the gateway allocate little, doubles up
// to held, and beyond held, up to most bytes (rd's limit), reserves each
// growth first (errBodyBudget when refused). The buffer has one byte more
// than is reserved, not counted: room for the read that sees the end of a
// body of the reserved length. read returns the body and what is reserved
// for it then, on an error too: the caller releases that.
func (b *bodyBudget) read(rd io.Reader, held, most int64) ([]byte, int64, error) {
	buf := make([]byte, 0, min(held+1, 64<<10))
	for {
		if len(buf) == cap(buf) {
			sized := int64(cap(buf)) - 1 // what buf was made for, without the spare byte
			size := max(sized*2, 512)
			if sized < held {
				size = min(size, held)
			} else {
				size = max(min(size, most), int64(len(buf))) // rd gives at most most bytes
				if !b.reserve(size - held) {
					return buf, held, errBodyBudget
				}
				held = size
			}
			grown := make([]byte, len(buf), size+1)
			copy(grown, buf)
			buf = grown
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				return buf, held, nil
			}
			return buf, held, err
		}
	}
}

// bodyBudgetFull is the error of a request whose body the budget has no
// room for. Its connection is closed after the answer, so that the body is
// not read; the refusals are logged at most every logevery.Interval, with
// a count.
func (h *Handler) bodyBudgetFull(w http.ResponseWriter) *apiError {
	hd := w.Header()
	hd.Set("Connection", "close")
	hd.Set("Retry-After", "1")
	if ok, missed := h.bodies.refused.Allow(time.Now()); ok {
		args := []any{"limit", h.bodies.limit, "key", "http.maxBodyMemory"}
		if missed > 0 {
			args = append(args, "refused_since_last_record", missed)
		}
		h.log.Warn("request refused: the request bodies being read reach the gateway's limit", args...)
	}
	return requestError(netron.CodeUnavailable, http.StatusServiceUnavailable, fmt.Sprintf(
		"Server busy: the request bodies being read take the gateway's limit of %d bytes (http.maxBodyMemory, WithMaxBodyMemory); retry later",
		h.bodies.limit))
}
