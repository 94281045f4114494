package nats

import (
	"context"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// sendStream is a stream an instance produces for a caller.
type sendStream struct {
	credit session.Credit // the caller's window and its grants
	cancel context.CancelCauseFunc
}

// acquire waits for one credit until ctx ends or the stream has been idle
// for idle, counted from the reader's last grant; every probeInterval of
// waiting, alive checks that the reader is still there.
func (s *sendStream) acquire(ctx context.Context, idle time.Duration, alive func() bool) error {
	deadline := time.Now().Add(idle)
	for {
		if s.credit.Take() {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return netron.Errorf(netron.CodeDeadlineExceeded, "stream reader idle for %v", idle)
		}
		t := time.NewTimer(min(left, probeInterval))
		select {
		case <-s.credit.Granted():
			t.Stop()
			// A grant that leaves no room (the bytes of a large item
			// still in flight) is the reader's too: idle counts from it.
			deadline = time.Now().Add(idle)
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
			if !alive() {
				return netron.Errorf(netron.CodeUnavailable, "the stream reader is gone")
			}
		}
	}
}

// maxCallerWindow is the largest stream window taken from a caller's
// [HeaderWindow], the most Config.StreamWindow may be, as a Netron takes
// from a peer's handshake: the instance keeps the cost of each item sent
// and not granted back (session.Credit), so a caller that announced a
// larger window and never granted would make it keep 8 bytes per item
// sent, for up to 2^31 items on each stream.
const maxCallerWindow = 65536

// serveStream answers a stream call with a StreamReference naming the
// stream id the caller chose, then publishes the items to <inbox>.s, at
// most the caller's window ahead of its credits; a caller has at most
// maxStreams streams open, each with an id of its own, and the instance
// at most maxInstanceStreams. release gives up the call's slot once the
// stream is answered (streams are bounded by maxStreams and
// maxInstanceStreams, as on a stream connection).
func (g *Gateway) serveStream(ctx context.Context, cancel context.CancelCauseFunc, msg *nats.Msg, hdr callHeaders, inv *netron.Invocation, ack *acker, release func()) {
	fail := func(err error) { ack.finish(); g.reply(msg.Reply, errorPacket(0, protocol.TypeCall, err)) }
	if hdr.inbox == "" || hdr.sid == 0 {
		fail(netron.Errorf(netron.CodeInvalidArgument, "a stream call needs the %s and %s headers", HeaderInbox, HeaderStream))
		return
	}
	window := min(hdr.window, maxCallerWindow)
	if window == 0 {
		window = g.window
	}
	sid := strconv.FormatUint(uint64(hdr.sid), 10)
	s := &sendStream{cancel: cancel}
	s.credit.Init(window, hdr.windowBytes)
	if err := g.openStream(hdr.inbox, sid, s); err != nil {
		fail(err)
		return
	}
	defer func() {
		g.closeStream(hdr.inbox, sid)
		s.credit.Release()
	}()
	seq, err := g.n.InvokeStream(ctx, inv)
	if errors.Is(err, netron.ErrDraining) {
		ack.finish()
		g.retry(msg)
		return
	}
	if err != nil {
		fail(err)
		return
	}
	ref, err := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.TypeCall,
		Data: &protocol.StreamReference{StreamID: hdr.sid, Kind: protocol.StreamWritable, IsLive: true, PeerID: g.id}})
	if err != nil {
		fail(netron.Errorf(netron.CodeInternal, "internal error"))
		seq(func(any, error) bool { return false }) // releases the call
		return
	}
	ack.finish()
	g.reply(msg.Reply, ref, HeaderStream, sid)
	release()

	items := hdr.inbox + ".s"
	alive := func() bool {
		_, err := g.nc.Request(hdr.inbox+".alive", nil, probeTimeout)
		return err == nil
	}
	index := uint32(0)
	err = func() error {
		for item, ierr := range seq {
			if ierr != nil {
				return ierr
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if err := s.acquire(ctx, g.idle, alive); err != nil {
				return err
			}
			b, err := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.TypeStream, Impulse: true, Live: true,
				StreamID: hdr.sid, StreamIndex: index, Data: item})
			if err != nil {
				g.log.Error("could not encode a stream item", "service", inv.Service, "method", inv.Method, "error", err)
				return netron.Errorf(netron.CodeInternal, "internal error")
			}
			if len(b) > g.limits.MaxFrameSize {
				return tooLarge("a stream item", len(b), int64(g.limits.MaxFrameSize))
			}
			if err := g.nc.Publish(items, b); err != nil {
				if errors.Is(err, nats.ErrMaxPayload) {
					return tooLarge("a stream item", len(b), g.nc.MaxPayload())
				}
				return netron.NewError(netron.CodeUnavailable, err)
			}
			s.credit.Sent(session.SentCost(len(b)))
			index++
		}
		return nil
	}()
	if err == nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	switch {
	case ctx.Err() != nil && netron.CodeOf(context.Cause(ctx)) != netron.CodeUnavailable:
		// Cancelled by the reader or past its deadline: it needs no answer.
	case err != nil:
		reason := err.Error()
		if netron.CodeOf(err) == netron.CodeInternal {
			reason = "internal error"
		}
		// Cut as the reader keeps it (4 KiB): a longer reason could pass
		// max_payload, and the end would never reach the reader.
		_ = g.nc.Publish(items, streamClose(hdr.sid, clipReason(reason)))
	default:
		b, _ := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.TypeStream, Impulse: true, Live: true, EOS: true,
			StreamID: hdr.sid, StreamIndex: index, Data: nil})
		_ = g.nc.Publish(items, b)
	}
}

// maxReason is the most bytes of a STREAM_CLOSE reason an instance sends,
// as many as a reader keeps of one.
const maxReason = 4 << 10

// clipReason cuts reason to maxReason bytes at a character boundary,
// marked with "…".
func clipReason(reason string) string {
	if len(reason) <= maxReason {
		return reason
	}
	cut := maxReason
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut] + "…"
}
