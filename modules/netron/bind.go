package netron

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Bind fills client, a pointer to a struct of func fields, with functions
// that call the methods of target on the peer. A field's wire name is
// WireName of the field name, or its `netron:"name"` tag ("-" skips it).
// Field shapes mirror the service's methods:
//
//	Add   func(ctx context.Context, a, b float64) (float64, error)
//	Reset func(ctx context.Context) error
//	Count func(ctx context.Context, n int) iter.Seq2[int, error]
//
// Bind first checks the fields against target's definition on the peer
// ([Peer.CheckClient], one query_interface bounded by ctx): a field for a
// method the service lacks, or whose arguments or result cannot fit the
// method's contract, fails Bind with an error naming the field. The calls
// resolve the target again on each new connection.
func (p *Peer) Bind(ctx context.Context, target string, client any) error {
	if err := p.CheckClient(ctx, target, client); err != nil {
		return err
	}
	return BindFunc(func() (*Peer, error) { return p, nil }, target, client)
}

// BindFunc is [Peer.Bind] with the peer looked up at each call by peer,
// for clients built before their connection exists (titan.Remote). It
// checks the fields' shapes only; [Peer.CheckClient] checks them against
// the definition once a peer is there.
func BindFunc(peer func() (*Peer, error), target string, client any) error {
	return BindFuncWith(peer, target, client, BindPolicy{})
}

// BindPolicy says which calls of a bound client are sent again, on the
// peer the peer function gives next. A call that did not run (ErrNotRun)
// always is, up to three attempts in all.
type BindPolicy struct {
	// Idempotent reports whether method may also be sent again after it
	// was sent and failed unavailable (its connection was lost): the
	// methods marked WithIdempotent in the service's definition
	// (IdempotentMethods).
	Idempotent func(method string) bool
}

// retries reports whether a call of method that failed with err is sent
// again.
func (bp BindPolicy) retries(method string, err error) bool {
	return errors.Is(err, ErrNotRun) || bp.Idempotent != nil && CodeOf(err) == CodeUnavailable && bp.Idempotent(method)
}

// IdempotentMethods returns the methods a definition marks idempotent.
func IdempotentMethods(def *protocol.Definition) map[string]bool {
	out := map[string]bool{}
	meta, _ := def.Meta.(protocol.Object)
	mv, _ := meta.Get("methods")
	methods, _ := mv.(protocol.Object)
	for _, f := range methods {
		if mo, ok := f.Value.(protocol.Object); ok {
			if v, _ := mo.Get("idempotent"); v == true {
				out[f.Key] = true
			}
		}
	}
	return out
}

// BindFuncWith is [BindFunc] with a policy for sending calls again.
func BindFuncWith(peer func() (*Peer, error), target string, client any, policy BindPolicy) error {
	if _, err := ParseTarget(target); err != nil {
		return err
	}
	v, fields, err := clientFields(client)
	if err != nil {
		return err
	}
	for i, f := range fields {
		fn, err := bindFunc(peer, target, f.method, f.typ, policy)
		if err != nil {
			return fmt.Errorf("netron: Bind %s: field %s: %w", v.Type(), f.name, err)
		}
		v.FieldByName(fields[i].name).Set(fn)
	}
	return nil
}

func bindFunc(peer func() (*Peer, error), target, method string, ft reflect.Type, policy BindPolicy) (reflect.Value, error) {
	if ft.Kind() != reflect.Func || ft.NumIn() < 1 || ft.In(0) != contextType || ft.IsVariadic() {
		return reflect.Value{}, fmt.Errorf("want a func whose first argument is a context.Context, got %v", ft)
	}
	switch {
	case ft.NumOut() == 2 && ft.Out(1) == errorType:
		out := ft.Out(0)
		return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
			ctx := in[0].Interface().(context.Context)
			res := reflect.New(out)
			args := values(in[1:])
			ptr := res.Interface()
			var err error
			for attempt := 1; ; attempt++ { // notRunRetry, without a closure per call
				var p *Peer
				if p, err = peer(); err == nil {
					err = callInto(ctx, p, target, method, args, ptr)
				}
				if err == nil || attempt == notRunAttempts || !policy.retries(method, err) || ctx.Err() != nil {
					break
				}
			}
			return []reflect.Value{res.Elem(), errValue(err)}
		}), nil
	case ft.NumOut() == 1 && ft.Out(0) == errorType:
		return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
			ctx := in[0].Interface().(context.Context)
			args := values(in[1:])
			err := retry(ctx, peer, policy, method, func(p *Peer) error {
				_, err := p.Call(ctx, target, method, args...)
				return err
			})
			return []reflect.Value{errValue(err)}
		}), nil
	case ft.NumOut() == 1:
		item, ok := isStreamType(ft.Out(0))
		if !ok {
			break
		}
		return streamFunc(ft, item, func(ctx context.Context, args []any) (*Stream, error) {
			var s *Stream
			err := retry(ctx, peer, policy, method, func(p *Peer) error {
				var err error
				s, err = p.OpenStream(ctx, target, method, args...)
				return err
			})
			return s, err
		}), nil
	}
	return reflect.Value{}, fmt.Errorf("want (T, error), error or iter.Seq2[T, error] results, got %v", ft)
}

// callInto calls method and decodes its result into ptr. The reply is
// decoded here and nothing else sees the Call: it may be pooled, as
// CallUnary's.
func callInto(ctx context.Context, p *Peer, target, method string, args []any, ptr any) error {
	call := newClientCall(p.n.poolCalls)
	defer call.release()
	r, err := p.call(ctx, call, target, method, args)
	if err != nil {
		return err
	}
	defer r.release()
	if err := r.decodeInto(ptr); err != nil {
		return NewError(CodeInternal, fmt.Errorf("decode result: %w", err))
	}
	return nil
}

// notRunAttempts bounds how often a bound call is made in all.
const notRunAttempts = 3

// retry runs call on the peer peer gives, and again on the peer it gives
// next (another instance, behind titan.Remote's balancer) while the
// policy says the failure may be retried (a call that did not run, or an
// idempotent one whose connection was lost), up to notRunAttempts times
// and while ctx lasts.
func retry(ctx context.Context, peer func() (*Peer, error), policy BindPolicy, method string, call func(*Peer) error) error {
	for attempt := 1; ; attempt++ {
		p, err := peer()
		if err == nil {
			err = call(p)
		}
		if err == nil || attempt == notRunAttempts || !policy.retries(method, err) || ctx.Err() != nil {
			return err
		}
	}
}

func values(in []reflect.Value) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v.Interface()
	}
	return out
}

func errValue(err error) reflect.Value {
	if err == nil {
		return reflect.Zero(errorType)
	}
	return reflect.ValueOf(&err).Elem()
}

// streamFunc makes the function of a stream client field, of type ft
// (ctx, args...) iter.Seq2[item, error]: each run of the iterator it
// returns opens a stream with open and yields its items, decoded, until
// the stream ends or the caller stops.
func streamFunc(ft, item reflect.Type, open func(ctx context.Context, args []any) (*Stream, error)) reflect.Value {
	seqType := ft.Out(0)
	return reflect.MakeFunc(ft, func(in []reflect.Value) []reflect.Value {
		ctx := in[0].Interface().(context.Context)
		args := values(in[1:])
		seq := reflect.MakeFunc(seqType, func(y []reflect.Value) []reflect.Value {
			yield := y[0]
			var it iter.Seq2[reflect.Value, error] = func(yf func(reflect.Value, error) bool) {
				s, err := open(ctx, args)
				if err != nil {
					yf(reflect.Zero(item), err)
					return
				}
				defer s.Close()
				for {
					pv := reflect.New(item)
					err := s.Recv(pv.Interface())
					if isEOF(err) {
						return
					}
					if !yf(pv.Elem(), err) || err != nil {
						return
					}
				}
			}
			it(func(v reflect.Value, err error) bool {
				return yield.Call([]reflect.Value{v, errValue(err)})[0].Bool()
			})
			return nil
		})
		return []reflect.Value{seq}
	})
}
