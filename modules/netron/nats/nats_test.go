package nats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

func TestCallSubject(t *testing.T) {
	cases := []struct{ name, version, method, want string }{
		{"calculator", "1.0.0", "add", "titan.rpc.calculator.1_0_0.add"},
		{"users", "2.1.0-rc.1", "get", "titan.rpc.users.2_1_0-rc_1.get"},
	}
	for _, c := range cases {
		if got := natstransport.CallSubject(c.name, c.version, c.method); got != c.want {
			t.Errorf("CallSubject(%s, %s, %s) = %s, want %s", c.name, c.version, c.method, got, c.want)
		}
	}
}

func TestUnary(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	_, calc := startInstance(t, url, "1.2.0")
	p := dial(t, url, netron.Config{})
	ctx := context.Background()
	for _, target := range []string{"calculator@1.2.0", "calculator@^1", "calculator", "calculator@~1.2"} {
		sum, err := netron.CallUnary[float64](ctx, p, target, "add", 2, 3)
		if err != nil || sum != 5 {
			t.Fatalf("%s add = %v, %v", target, sum, err)
		}
	}
	if calc.calls.Load() != 4 {
		t.Fatalf("served %d calls, want 4", calc.calls.Load())
	}
	pt, err := netron.CallUnary[Point](ctx, p, "calculator@^1", "move", Point{X: 1, Y: 2}, 3)
	if err != nil || pt != (Point{X: 4, Y: 2}) {
		t.Fatalf("move = %+v, %v", pt, err)
	}
	r, err := p.Call(ctx, "calculator@^1", "reset")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := r.Value(); err != nil || (v != nil && v != (protocol.Undefined{})) {
		t.Fatalf("reset, a method with no result, answered %#v, %v; want nothing (null or undefined)", v, err)
	}
	def, err := p.Definition(ctx, "calculator@^1")
	if err != nil || def.ID != "calculator@1.2.0" {
		t.Fatalf("definition = %+v, %v", def, err)
	}
	// The caller's deadline travels to the method; without one, the
	// request timeout stays on the calling side.
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := netron.CallUnary[string](dctx, p, "calculator@^1", "meta")
	if err != nil || got != "deadline=true left=true" {
		t.Fatalf("meta with a deadline = %q, %v", got, err)
	}
	got, err = netron.CallUnary[string](ctx, p, "calculator@^1", "meta")
	if err != nil || got != "deadline=false left=false" {
		t.Fatalf("meta without a deadline = %q, %v", got, err)
	}

	var client struct {
		Add   func(ctx context.Context, a, b float64) (float64, error)
		Reset func(ctx context.Context) error
	}
	if err := p.Bind(ctx, "calculator@^1", &client); err != nil {
		t.Fatal(err)
	}
	if s, err := client.Add(ctx, 1, 1); err != nil || s != 2 {
		t.Fatalf("bound add = %v, %v", s, err)
	}
	if err := client.Reset(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestResolvePicksTheHighestVersion(t *testing.T) {
	url := testURL(t)
	startInstance(t, url, "1.0.0")
	startInstance(t, url, "1.4.0")
	startInstance(t, url, "2.0.0")
	p := dial(t, url, netron.Config{})
	ctx := context.Background()
	for target, want := range map[string]string{"calculator@^1": "calculator@1.4.0", "calculator": "calculator@2.0.0", "calculator@~1.0": "calculator@1.0.0"} {
		def, err := p.Definition(ctx, target)
		if err != nil || def.ID != want {
			t.Errorf("%s resolves to %v (%v), want %s", target, def, err, want)
		}
	}
	_, err := p.Definition(ctx, "calculator@^3")
	if netron.CodeOf(err) != netron.CodeNotFound {
		t.Fatalf("calculator@^3: %v, want not_found", err)
	}
}

func TestErrors(t *testing.T) {
	url := testURL(t)
	startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{})
	ctx := context.Background()
	for _, code := range netron.Codes {
		t.Run(code.String(), func(t *testing.T) {
			_, err := p.Call(ctx, "calculator@1.0.0", "fail", code.String())
			if netron.CodeOf(err) != code || !strings.Contains(err.Error(), "failed with "+code.String()) {
				t.Fatalf("fail(%s) = %v", code, err)
			}
		})
	}
	cases := []struct {
		name   string
		target string
		method string
		args   []any
		code   netron.Code
		text   string
	}{
		{"plain error", "calculator@1.0.0", "fail", []any{"nope"}, netron.CodeUnknown, "plain failure"},
		{"panic", "calculator@1.0.0", "panic", nil, netron.CodeInternal, "internal error"},
		{"input contract", "calculator@1.0.0", "add", []any{"x", 3}, netron.CodeInvalidArgument, ""},
		{"output contract", "calculator@1.0.0", "negative", nil, netron.CodeInternal, ""},
		{"arity", "calculator@1.0.0", "add", []any{1}, netron.CodeInvalidArgument, "calculator@1.0.0.add takes 2 arguments (number, number), got 1"},
		{"unknown method", "calculator@1.0.0", "nope", nil, netron.CodeNotFound, `service calculator@1.0.0 has no method "nope" (it has: add, `},
		{"bad method name", "calculator@1.0.0", "a.b", nil, netron.CodeInvalidArgument, "method name"},
		{"no instance", "calculator@9.0.0", "add", []any{1, 2}, netron.CodeUnavailable, "no instance"},
		{"no instance for a range", "nothing@^1", "add", []any{1, 2}, netron.CodeUnavailable, "no instance"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := p.Call(ctx, c.target, c.method, c.args...)
			if netron.CodeOf(err) != c.code || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("%s.%s = %v, want %s containing %q", c.target, c.method, err, c.code, c.text)
			}
			if time.Since(start) > 500*time.Millisecond {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}
}

func TestDeadlineAndCancel(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	_, calc := startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := p.Call(ctx, "calculator@1.0.0", "slow", 10*time.Second)
	if netron.CodeOf(err) != netron.CodeDeadlineExceeded {
		t.Fatalf("slow = %v", err)
	}
	select {
	case <-calc.canceled:
	case <-time.After(2 * time.Second):
		t.Fatal("the method's context was not cancelled")
	}
	// A call that lasts longer than the ack delay and the probe interval.
	s, err := netron.CallUnary[string](context.Background(), p, "calculator@1.0.0", "slow", 1200*time.Millisecond)
	if err != nil || s != "done" {
		t.Fatalf("slow = %q, %v", s, err)
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{StreamWindow: 16})
	ctx := context.Background()
	want := 0
	for v, err := range netron.CallStream[int](ctx, p, "calculator@^1", "count", 500) {
		if err != nil {
			t.Fatal(err)
		}
		if v != want {
			t.Fatalf("item %d is %d", want, v)
		}
		want++
	}
	if want != 500 {
		t.Fatalf("got %d items", want)
	}
	n := 0
	var last error
	for _, err := range netron.CallStream[int](ctx, p, "calculator@^1", "broken", 5) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if n != 5 || netron.CodeOf(last) != netron.CodeDataLoss || !strings.Contains(last.Error(), "broken after 5") {
		t.Fatalf("broken: %d items, %v", n, last)
	}
	s, err := p.OpenStream(ctx, "calculator@^1", "count", 0)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.Recv(&v); !errors.Is(err, io.EOF) {
		t.Fatalf("empty stream: %v", err)
	}
}

func TestStreamPausedReaderIsBounded(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	_, calc := startInstance(t, url, "1.0.0")
	const window = 8
	p := dial(t, url, netron.Config{StreamWindow: window})
	ctx := context.Background()
	s, err := p.OpenStream(ctx, "calculator@^1", "count", 100000)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.Recv(&v); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if got := calc.produced.Load(); got > window+1 {
		t.Fatalf("a paused reader let the producer make %d items (window %d)", got, window)
	}
	for i := 1; i < 1000; i++ {
		if err := s.Recv(&v); err != nil || v != i {
			t.Fatalf("item %d = %d, %v", i, v, err)
		}
	}
	s.Close()
	select {
	case <-calc.canceled:
	case <-time.After(3 * time.Second):
		t.Fatal("closing the stream did not stop the producer")
	}
	if got := calc.produced.Load(); got > 1000+window+1 {
		t.Fatalf("produced %d items for 1000 read", got)
	}
}

func TestFrameSizeFollowsMaxPayload(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{})
	big := strings.Repeat("x", 8<<20)
	_, err := p.Call(context.Background(), "calculator@1.0.0", "fail", big)
	if netron.CodeOf(err) != netron.CodeResourceExhausted || !strings.Contains(err.Error(), "max_payload") {
		t.Fatalf("8 MiB argument: %v", err)
	}
	// The connection is still usable.
	if _, err := p.Call(context.Background(), "calculator@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
}

// TestTooLargeRequestCountsHeaders: a request whose data fits NATS's
// max_payload but whose headers push it over fails naming a size above
// the limit, not the data's size alone (which was below it).
func TestTooLargeRequestCountsHeaders(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{})
	big := strings.Repeat("x", 1<<20-64) // max_payload is 1 MiB by default
	_, err := p.Call(context.Background(), "calculator@1.0.0", "fail", big)
	m := regexp.MustCompile(`of (\d+) bytes exceeds the limit of (\d+) bytes`).FindStringSubmatch(fmt.Sprint(err))
	if netron.CodeOf(err) != netron.CodeResourceExhausted || m == nil {
		t.Fatalf("argument of max_payload-64 bytes: %v", err)
	}
	size, _ := strconv.Atoi(m[1])
	limit, _ := strconv.Atoi(m[2])
	if size <= limit {
		t.Fatalf("the error names a size within the limit: %v", err)
	}
}

func TestStopFinishesCallsInFlight(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	n, calc := startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		s, err := netron.CallUnary[string](ctx, p, "calculator@1.0.0", "slow", 600*time.Millisecond)
		if err == nil && s != "done" {
			err = errors.New("wrong result " + s)
		}
		done <- err
	}()
	// Stop as soon as the call runs on the instance (a fixed pause could
	// end before the call arrives on a loaded machine): Stop then begins
	// well before the call's 600 ms are over, as the check below needs.
	for deadline := time.Now().Add(5 * time.Second); calc.slow.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the call did not reach the instance")
		}
	}
	start := time.Now()
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("call in flight during Stop: %v", err)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Fatalf("Stop returned after %v, before the call finished", time.Since(start))
	}
	_, err := p.Call(ctx, "calculator@1.0.0", "add", 1, 2)
	if netron.CodeOf(err) != netron.CodeUnavailable {
		t.Fatalf("after Stop: %v", err)
	}
}

// A service registered after the instance started listening on NATS is
// served there too (resolves and calls, a new name and a new version of a
// known one), and calls of the first keep working meanwhile; one exposed
// on other transports only is not.
func TestServicesRegisteredAfterListen(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	n, _ := startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{})
	ctx := context.Background()
	if _, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	late := newCalc()
	if err := n.Register("latecomer", "1.0.0", late); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.1.0", newCalc()); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("tcponly", "1.0.0", newCalc(), netron.WithTransports("tcp")); err != nil {
		t.Fatal(err)
	}
	if sum, err := netron.CallUnary[float64](ctx, p, "latecomer@^1", "add", 2, 3); err != nil || sum != 5 {
		t.Fatalf("latecomer add = %v, %v", sum, err)
	}
	if late.calls.Load() != 1 {
		t.Fatalf("the late service served %d calls, want 1", late.calls.Load())
	}
	def, err := p.Definition(ctx, "calculator@^1")
	if err != nil || def.ID != "calculator@1.1.0" {
		t.Fatalf("calculator@^1 resolves to %+v (%v), want the version registered late", def, err)
	}
	if _, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	// Nobody answers for it on NATS: as for a service no instance has.
	if _, err := p.Definition(ctx, "tcponly"); netron.CodeOf(err) != netron.CodeUnavailable {
		t.Fatalf("a service not exposed on NATS: %v, want unavailable (nobody serving)", err)
	}
}

// A stream whose method fails before its first item ends with the
// method's error at once, every time: the producer's close often arrives
// before the caller has taken the stream's reference, and it used to be
// lost then, the reader waiting until its deadline or the idle timeout.
func TestStreamFailingBeforeItsFirstItem(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{})
	for i := range 10 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := p.OpenStream(ctx, "calculator@1.0.0", "broken", 0)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		var v int
		err = s.Recv(&v)
		cancel()
		if netron.CodeOf(err) != netron.CodeDataLoss {
			t.Fatalf("stream %d failing before its first item: %v, want the method's data_loss", i, err)
		}
	}
}
