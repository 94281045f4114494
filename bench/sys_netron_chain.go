package main

import (
	"context"
	"crypto/subtle"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// The -chain rows put two user interceptors on both sides, written against
// the engine's public call model only, in the shape the metrics and auth
// modules will have: callTimer (outermost) times each call per method, and
// tokenAuth reads the service, method and metadata of the call. The calling
// side's tokenAuth attaches the token as metadata; the serving side's
// compares it and fails the call with unauthenticated when it differs.

// authKey is the metadata key that carries the token.
const authKey = "authorization"

// methodKey identifies a method in the interceptors' tables.
type methodKey struct{ service, method string }

// tokenAuth checks (serving side) or attaches (calling side) a token in the
// call's metadata. Methods in public pass without one.
type tokenAuth struct {
	token  string
	attach map[string]string // the calling side's metadata; shared, never written
	public map[methodKey]bool
}

func newTokenAuth(token string) *tokenAuth {
	return &tokenAuth{token: token, attach: map[string]string{authKey: token}, public: map[methodKey]bool{}}
}

// check attaches the token to an outgoing call, or verifies the token of an
// incoming one.
func (a *tokenAuth) check(call *netron.Call) error {
	if a.public[methodKey{call.Service, call.Method}] {
		return nil
	}
	if call.IsClient() {
		if call.Metadata == nil {
			call.Metadata = a.attach
		}
		return nil
	}
	got, ok := call.Metadata[authKey]
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1 {
		return netron.Errorf(netron.CodeUnauthenticated, "%s.%s: missing or wrong %q metadata", call.Service, call.Method, authKey)
	}
	return nil
}

// BorrowsCalls implements netron.CallBorrower: no Call is kept past its
// call, as the security module's interceptor will not keep one.
func (a *tokenAuth) BorrowsCalls() {}

func (a *tokenAuth) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if err := a.check(call); err != nil {
			return nil, err
		}
		return next(ctx, call)
	}
}

func (a *tokenAuth) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		if err := a.check(call); err != nil {
			return nil, err
		}
		return next(ctx, call)
	}
}

func (a *tokenAuth) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		if err := a.check(call); err != nil {
			return nil, err
		}
		return next(ctx, call)
	}
}

// methodTimes is what callTimer records of one method.
type methodTimes struct {
	calls, failed, nanos atomic.Int64
}

func (m *methodTimes) record(start time.Time, err error) {
	m.nanos.Add(int64(time.Since(start)))
	m.calls.Add(1)
	if err != nil {
		m.failed.Add(1)
	}
}

// callTimer counts calls, failures and total time per method. A served
// stream is timed until its last item; a stream on the calling side until
// its end (Stream.OnEnd).
type callTimer struct {
	mu       sync.RWMutex
	byMethod map[methodKey]*methodTimes
}

func newCallTimer() *callTimer { return &callTimer{byMethod: map[methodKey]*methodTimes{}} }

// of returns the record of call's method, made on its first call.
func (t *callTimer) of(call *netron.Call) *methodTimes {
	k := methodKey{call.Service, call.Method}
	t.mu.RLock()
	m := t.byMethod[k]
	t.mu.RUnlock()
	if m != nil {
		return m
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if m = t.byMethod[k]; m == nil {
		m = new(methodTimes)
		t.byMethod[k] = m
	}
	return m
}

// total returns the calls and failures recorded over all methods.
func (t *callTimer) total() (calls, failed int64) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, m := range t.byMethod {
		calls += m.calls.Load()
		failed += m.failed.Load()
	}
	return calls, failed
}

// BorrowsCalls implements netron.CallBorrower: the timer keeps copies of
// the names, never the Call, as the metrics module's interceptor will.
func (t *callTimer) BorrowsCalls() {}

func (t *callTimer) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		start := time.Now()
		res, err := next(ctx, call)
		t.of(call).record(start, err)
		return res, err
	}
}

func (t *callTimer) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		start := time.Now()
		m := t.of(call)
		items, err := next(ctx, call)
		if err != nil {
			m.record(start, err)
			return nil, err
		}
		return func(yield func(any, error) bool) {
			var failure error
			defer func() { m.record(start, failure) }()
			for v, err := range items {
				if err != nil {
					failure = err
				}
				if !yield(v, err) {
					return
				}
			}
		}, nil
	}
}

func (t *callTimer) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		start := time.Now()
		s, err := next(ctx, call)
		if err != nil {
			t.of(call).record(start, err)
			return s, err
		}
		m := t.of(call)
		s.OnEnd(func(err error) { m.record(start, err) })
		return s, nil
	}
}

// chainSides holds the interceptors of both sides of a -chain row.
type chainSides struct {
	server, client       []netron.Option
	serverTimer, clTimer *callTimer
}

func newChainSides(token string) chainSides {
	st, ct := newCallTimer(), newCallTimer()
	return chainSides{
		server:      []netron.Option{netron.WithInterceptors(st, newTokenAuth(token))},
		client:      []netron.Option{netron.WithInterceptors(ct, newTokenAuth(token))},
		serverTimer: st, clTimer: ct,
	}
}

// checkChain shows that the chain is in the path before a -chain row is
// measured: a call with the token succeeds and is timed on both sides, and
// a call from a Netron with another token fails with unauthenticated.
func checkChain(ctx context.Context, sides chainSides, good *netron.Peer, addr string) error {
	if _, err := netron.CallUnary[string](ctx, good, "echo@1.0.0", "echo", "x"); err != nil {
		return fmt.Errorf("chain check: call with the token: %w", err)
	}
	if calls, _ := sides.serverTimer.total(); calls == 0 {
		return fmt.Errorf("chain check: the serving side's timer saw no call")
	}
	if calls, _ := sides.clTimer.total(); calls == 0 {
		return fmt.Errorf("chain check: the calling side's timer saw no call")
	}
	bad, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(newTokenAuth("wrong")))
	if err != nil {
		return err
	}
	defer bad.Stop(ctx)
	p, err := bad.Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer p.Close()
	_, err = netron.CallUnary[string](ctx, p, "echo@1.0.0", "echo", "x")
	if netron.CodeOf(err) != netron.CodeUnauthenticated {
		return fmt.Errorf("chain check: a call with a wrong token answered %v, want unauthenticated", err)
	}
	if _, failed := sides.serverTimer.total(); failed == 0 {
		return fmt.Errorf("chain check: the serving side's timer did not count the refused call")
	}
	return nil
}
