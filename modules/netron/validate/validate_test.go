package validate_test

import (
	"bytes"
	"context"
	"io"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/transport/mem"
	"github.com/titanframework/titan/modules/netron/validate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Point has a contract: X at least 0.
type Point struct {
	X int `json:"x" jsonschema:"minimum=0"`
}

// Shapes breaks its own output contract on request.
type Shapes struct{ ran *atomic.Int64 }

func (s Shapes) Move(_ context.Context, p Point) (Point, error) {
	s.ran.Add(1)
	return Point{X: p.X - 10}, nil // negative when p.X < 10: an output violation
}

func (s Shapes) Walk(_ context.Context, p Point) iter.Seq2[Point, error] {
	s.ran.Add(1)
	return func(yield func(Point, error) bool) {
		for i := range 3 {
			if !yield(Point{X: p.X - i}, nil) {
				return
			}
		}
	}
}

// serve starts a Netron with ics serving Shapes and dials it.
func serve(t *testing.T, ran *atomic.Int64, ics ...netron.Interceptor) *netron.Peer {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(ics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	if err := n.Register("shapes", "1.0.0", Shapes{ran: ran}); err != nil {
		t.Fatal(err)
	}
	return memPeer(t, n)
}

// The engine enforces no contract by itself: the interceptor does. Without
// it a bad argument reaches the method and a bad result reaches the caller;
// with it the method never sees the argument and the caller gets internal,
// with the failing pointer in the server's log only.
func TestContractsAreTheInterceptors(t *testing.T) {
	ctx := context.Background()
	var ran atomic.Int64
	bare := serve(t, &ran)
	if _, err := bare.Call(ctx, "shapes@1.0.0", "move", map[string]any{"x": -1}); err != nil {
		t.Fatalf("bare engine: move(x=-1) = %v, want it to run (no validation installed)", err)
	}
	if ran.Load() != 1 {
		t.Fatalf("bare engine: the method ran %d times, want 1", ran.Load())
	}

	ran.Store(0)
	var logs bytes.Buffer
	p := serve(t, &ran, validate.New(slog.New(slog.NewTextHandler(&logs, nil))))
	_, err := p.Call(ctx, "shapes@1.0.0", "move", map[string]any{"x": -1})
	if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "argument 1 at /x") {
		t.Fatalf("move(x=-1) = %v, want invalid_argument naming argument 1 at /x", err)
	}
	if ran.Load() != 0 {
		t.Fatalf("the method ran on a refused argument")
	}
	_, err = p.Call(ctx, "shapes@1.0.0", "move", map[string]any{"x": 1}, "extra")
	if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "takes 1 argument") {
		t.Fatalf("move with 2 arguments = %v, want invalid_argument saying it takes 1", err)
	}
	_, err = p.Call(ctx, "shapes@1.0.0", "move", map[string]any{"x": 1})
	if netron.CodeOf(err) != netron.CodeInternal || !strings.Contains(err.Error(), "the result of shapes@1.0.0.move does not match its contract") {
		t.Fatalf("move(x=1) = %v, want internal: the result does not match its contract", err)
	}
	if strings.Contains(err.Error(), "/x") {
		t.Fatalf("the caller sees the details of an output violation: %v", err)
	}
	if !strings.Contains(logs.String(), "/x: minimum") && !strings.Contains(logs.String(), "/x: want") {
		t.Fatalf("the log does not name the failing pointer: %s", logs.String())
	}
	if _, err := p.Call(ctx, "shapes@1.0.0", "move", map[string]any{"x": 15}); err != nil {
		t.Fatalf("move(x=15) = %v", err)
	}
}

// A stream's items are checked one by one: the items that keep the
// contract arrive, the first that breaks it ends the stream.
func TestStreamItems(t *testing.T) {
	var ran atomic.Int64
	p := serve(t, &ran, validate.New(nil))
	var got []int
	var last error
	for v, err := range netron.CallStream[Point](context.Background(), p, "shapes@1.0.0", "walk", Point{X: 1}) {
		if err != nil {
			last = err
			break
		}
		got = append(got, v.X)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 0 {
		t.Fatalf("items = %v, want [1 0] before the violation", got)
	}
	// A stream's end carries its reason as text (STREAM_CLOSE), not a code.
	if last == nil || !strings.Contains(last.Error(), "the stream item of shapes@1.0.0.walk does not match its contract") {
		t.Fatalf("end of stream = %v, want the stream item's contract named", last)
	}
}

// Calls the Netron makes are not checked: their contracts are the serving
// side's. A client with the interceptor still reaches a bare server with a
// bad argument.
func TestCallsMadePassThrough(t *testing.T) {
	var ran atomic.Int64
	bare := serve(t, &ran)
	client, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(validate.New(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	p, err := client.Dial(context.Background(), bare.RemoteAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Call(context.Background(), "shapes@1.0.0", "move", map[string]any{"x": -1}); err != nil {
		t.Fatalf("move(x=-1) from a validating client to a bare server = %v, want it to run", err)
	}
}

// SkipOutput leaves a method's results and stream items unchecked, and
// its arguments checked.
func TestSkipOutput(t *testing.T) {
	var ran atomic.Int64
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(validate.New(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("shapes", "1.0.0", Shapes{ran: &ran},
		netron.WithMethod("move", validate.SkipOutput()), netron.WithMethod("walk", validate.SkipOutput())); err != nil {
		t.Fatal(err)
	}
	p := memPeer(t, n)
	ctx := context.Background()
	if got, err := netron.CallUnary[Point](ctx, p, "shapes@1.0.0", "move", Point{X: 1}); err != nil || got.X != -9 {
		t.Fatalf("move(x=1) with SkipOutput = %v, %v, want x=-9 unchecked", got, err)
	}
	if _, err := p.Call(ctx, "shapes@1.0.0", "move", map[string]any{"x": -1}); netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("move(x=-1) with SkipOutput = %v, want its argument still refused", err)
	}
	n2 := 0
	for _, err := range netron.CallStream[Point](ctx, p, "shapes@1.0.0", "walk", Point{X: 0}) {
		if err != nil {
			t.Fatalf("walk with SkipOutput: %v", err)
		}
		n2++
	}
	if n2 != 3 {
		t.Fatalf("walk gave %d items, want 3 unchecked", n2)
	}
}

// nilStreams is an interceptor whose streams return neither an iterator
// nor an error: a bug of its own, which the validation wrapped around it
// must not turn into a panic.
type nilStreams struct{ netron.UnaryInterceptorFunc }

func (nilStreams) WrapStreamingHandler(netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(context.Context, *netron.Call) (iter.Seq2[any, error], error) { return nil, nil }
}

// A stream whose inner interceptor returns (nil, nil) ends with internal
// and a log that says so, not a nil-iterator panic; the connection goes
// on serving.
func TestNilStreamFromAnInnerInterceptor(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	var ran atomic.Int64
	n, err := netron.New(netron.Config{}, log, netron.WithInterceptors(validate.New(log),
		nilStreams{func(next netron.UnaryFunc) netron.UnaryFunc { return next }}))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("shapes", "1.0.0", Shapes{ran: &ran}); err != nil {
		t.Fatal(err)
	}
	p := memPeer(t, n)
	ctx := context.Background()
	var last error
	for _, err := range netron.CallStream[Point](ctx, p, "shapes@1.0.0", "walk", Point{X: 1}) {
		if err != nil {
			last = err
			break
		}
		t.Fatal("walk gave an item; its interceptor returned no iterator")
	}
	if last == nil || !strings.Contains(last.Error(), "internal") {
		t.Fatalf("walk through an interceptor returning (nil, nil) = %v, want internal", last)
	}
	mu.Lock()
	got := logs.String()
	mu.Unlock()
	if strings.Contains(got, "panicked") || !strings.Contains(got, "neither an iterator nor an error") {
		t.Fatalf("the log does not say the stream had no iterator:\n%s", got)
	}
	if _, err := netron.CallUnary[Point](ctx, p, "shapes@1.0.0", "move", Point{X: 15}); err != nil {
		t.Fatalf("move after the nil stream = %v, want the connection still serving", err)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// Bounds has a field that may be null: a pointer.
type Bounds struct {
	Limit *int `json:"limit" jsonschema:"minimum=1"`
}

// Sizer takes Bounds.
type Sizer struct{}

func (Sizer) Size(_ context.Context, b Bounds) (int, error) { return 0, nil }

// An argument that breaks the contract of a field that may be null is
// refused with one reason for its pointer: not also "want null".
func TestNullableFieldViolatedOnce(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(validate.New(nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("sizer", "1.0.0", Sizer{}); err != nil {
		t.Fatal(err)
	}
	p := memPeer(t, n)
	ctx := context.Background()
	if _, err := p.Call(ctx, "sizer@1.0.0", "size", map[string]any{"limit": nil}); err != nil {
		t.Fatalf("size(limit=null) = %v", err)
	}
	_, err = p.Call(ctx, "sizer@1.0.0", "size", map[string]any{"limit": 0})
	if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "/limit: want at least 1, got 0") || strings.Contains(err.Error(), "null") {
		t.Fatalf("size(limit=0) = %v, want invalid_argument: /limit: want at least 1, got 0, alone", err)
	}
	_, err = p.Call(ctx, "sizer@1.0.0", "size", map[string]any{"limit": "x"})
	if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "/limit: want an integer or null, got a string") {
		t.Fatalf("size(limit=x) = %v, want invalid_argument: /limit: want an integer or null, got a string", err)
	}
}

// memPeer listens on mem:// with n and returns a peer dialled to it,
// closed when the test ends.
func memPeer(t *testing.T, n *netron.Netron) *netron.Peer {
	t.Helper()
	addr, err := n.Listen(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	p, err := netron.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
