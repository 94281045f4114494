package httpmux

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/internal/limit"
)

// timedBody is a request body that must arrive like a message: within FrameTimeout of the end
// of the request's header, or at FrameMinRate. It sets the connection's read deadline through
// the ResponseController when the handler is called (so that a body the handler leaves unread
// is bounded too while net/http discards it), moves it as bytes arrive and clears it at the end
// of the body. A body that runs out of time fails with an error matching
// [transport.ErrFrameTimeout].
type timedBody struct {
	body   io.ReadCloser
	rc     http.ResponseController
	remote string
	size   int64 // Content-Length, -1 when unknown
	clock  limit.FrameClock
}

func newTimedBody(r *http.Request, w http.ResponseWriter, l transport.Limits) *timedBody {
	b := &timedBody{
		body:   r.Body,
		rc:     *http.NewResponseController(w), // a copy: one allocation less
		remote: r.RemoteAddr,
		size:   r.ContentLength,
		clock:  limit.FrameClock{Timeout: l.FrameTimeout, Rate: l.FrameMinRate, What: "request body"},
	}
	if b.rc.SetReadDeadline(b.clock.Start(time.Now(), 0)) != nil {
		b.clock.Stop() // the connection cannot time reads: read without
	}
	return b
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if !b.clock.Running() {
		return n, err
	}
	if d, ok := b.clock.Progress(n); ok {
		_ = b.rc.SetReadDeadline(d)
	}
	if err != nil {
		b.clock.Stop()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			err = b.clock.Expired("the HTTP client "+b.remote, b.size, "")
		default:
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}

func (b *timedBody) Close() error { return b.body.Close() }
