package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/internal/logevery"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Bridge carries a Netron's events across every process connected to the
// same NATS cluster: each local [netron.Netron.Emit] is also published to
// <prefix>.events.<topic>, and each event published there by another
// process is emitted locally (to local subscribers and to the peers
// subscribed to it), exactly once.
type Bridge struct {
	n      netron.Engine
	nc     *nats.Conn
	subj   subjects
	log    *slog.Logger
	limits protocol.Limits
	sub    *nats.Subscription
	unsub  func()
	once   sync.Once
	bad    logevery.Limiter
}

// BridgeOption configures a [Bridge].
type BridgeOption interface {
	apply(*Bridge)
	String() string
}

type bridgeOption struct {
	desc string
	fn   func(*Bridge)
}

func (o bridgeOption) apply(b *Bridge) { o.fn(b) }
func (o bridgeOption) String() string  { return o.desc }

// WithPrefix sets the first subject token ([DefaultPrefix] by default); it
// must match the prefix of the processes to reach.
func WithPrefix(prefix string) BridgeOption {
	return bridgeOption{fmt.Sprintf("WithPrefix(%q)", prefix), func(b *Bridge) { b.subj.prefix = prefix }}
}

// fromNATS marks the context of an event that came from NATS, so that the
// bridge does not publish it again.
type fromNATS struct{}

// NewBridge starts a bridge between n's events and nc. The bridge does not
// own nc; Close stops the bridge and leaves nc open. Events whose names
// cannot be NATS subjects (white space) stay local. A bridge whose
// subscription to <prefix>.events.> the NATS server refuses nc's user
// fails with permission_denied naming the subject.
func NewBridge(n netron.Engine, nc *nats.Conn, opts ...BridgeOption) (*Bridge, error) {
	if n == nil || nc == nil {
		return nil, errors.New("natstransport: NewBridge needs a Netron and a NATS connection")
	}
	b := &Bridge{
		n: n, nc: nc, subj: subjects{DefaultPrefix},
		log:    n.Logger().With("transport", "nats"),
		limits: protocol.Limits{MaxFrameSize: n.Config().MaxFrameSize, MaxDepth: n.Config().MaxDepth},
	}
	for _, o := range opts {
		o.apply(b)
	}
	if !validTopic(b.subj.prefix) {
		return nil, fmt.Errorf("natstransport: WithPrefix(%q): not a subject", b.subj.prefix)
	}
	subject := b.subj.event(">")
	before := nc.LastError() // see refusedSubscription
	sub, err := nc.Subscribe(subject, b.receive)
	if err != nil {
		return nil, fmt.Errorf("natstransport: bridge: %w", err)
	}
	if err := nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("natstransport: bridge: %w", err)
	}
	if refusedSubscription(nc, before) == subject {
		_ = sub.Unsubscribe()
		return nil, netron.Errorf(netron.CodePermissionDenied, "natstransport: bridge: the NATS server denied its connection's user permission to subscribe to %q", subject)
	}
	unsub, err := n.Subscribe(context.Background(), ">", b.forward)
	if err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	b.sub, b.unsub = sub, unsub
	return b, nil
}

// Close stops forwarding in both directions.
func (b *Bridge) Close() error {
	var err error
	b.once.Do(func() {
		b.unsub()
		if uerr := b.sub.Unsubscribe(); uerr != nil && !errors.Is(uerr, nats.ErrConnectionClosed) {
			err = uerr
		}
	})
	return err
}

// forward publishes a local event.
func (b *Bridge) forward(ctx context.Context, e netron.Event) {
	if ctx.Value(fromNATS{}) != nil {
		return
	}
	if !validTopic(e.Topic) {
		b.log.Debug("event not bridged: its name is not a subject", "topic", e.Topic)
		return
	}
	data, err := protocol.Marshal(e.Payload)
	if err != nil {
		b.log.Warn("event not bridged: cannot encode its payload", "topic", e.Topic, "error", err)
		return
	}
	m := nats.NewMsg(b.subj.event(e.Topic))
	m.Header.Set(HeaderOrigin, b.n.ID())
	m.Data = data
	if err := b.nc.PublishMsg(m); err != nil {
		b.log.Warn("event not bridged", "topic", e.Topic, "error", err)
	}
}

// receive emits locally an event another process published.
func (b *Bridge) receive(m *nats.Msg) {
	if m.Header.Get(HeaderOrigin) == b.n.ID() {
		return
	}
	topic := strings.TrimPrefix(m.Subject, b.subj.prefix+".events.")
	var payload any
	if len(m.Data) > 0 {
		v, err := protocol.DecodeValue(m.Data, b.limits)
		if err != nil {
			if write, quiet := b.bad.Allow(time.Now()); write {
				args := []any{"topic", topic, "error", err}
				if quiet > 0 {
					args = append(args, "dropped_since_last_record", quiet)
				}
				b.log.Warn("dropped an undecodable event", args...)
			}
			return
		}
		payload = v
	}
	if err := b.n.Emit(context.WithValue(context.Background(), fromNATS{}, true), topic, payload); err != nil {
		b.log.Debug("dropped an event", "topic", topic, "error", err)
	}
}
