package nats_test

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// A raw NATS client that floods an instance with slow calls makes it hold
// at most Config.MaxCallsPerPeer of them running (the others wait in line
// or are refused), not a goroutine per call; a well-behaved caller's call
// runs at once beside them (before, it waited until one of the flood's
// ended, 1.5 s), and the calls whose deadline passed while they waited are
// answered deadline_exceeded without running.
func TestCallFloodIsBounded(t *testing.T) {
	const slots, flood = 32, 400
	r := serveRawCalc(t, netron.Config{MaxCallsPerPeer: slots})
	ctx, addr, calc, nc, prefix := r.ctx, r.addr, r.calc, r.nc, r.prefix
	before := runtime.NumGoroutine()
	answers := subscribeAnswers(t, nc)
	args, _ := protocol.AppendValue(nil, []any{2000}) // 2 s of work
	for i := range flood {
		m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0.work")
		m.Reply = answers.Subject[:len(answers.Subject)-1] + "r." + strconv.Itoa(i)
		m.Data = args
		m.Header.Set(natstransport.HeaderCaller, "flooder")
		m.Header.Set(natstransport.HeaderTimeout, "1500")
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}

	p := dial(t, addr, netron.Config{})
	var peak int
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			g := runtime.NumGoroutine()
			mu.Lock()
			peak = max(peak, g)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	v, err := netron.CallUnary[float64](cctx, p, "calculator@1.0.0", "add", 1, 2)
	cancel()
	took := time.Since(start)
	// The flood's calls run or wait meanwhile: sample until every one of
	// them has its answer (its result, a refusal or deadline_exceeded),
	// the flood then over, or for a second at most.
	answered := map[string]bool{}
	for end := time.Now().Add(time.Second); len(answered) < flood && time.Now().Before(end); {
		m, err := answers.NextMsg(time.Until(end))
		if err != nil {
			break
		}
		if m.Header.Get(natstransport.HeaderAck) == "" {
			answered[m.Subject] = true
		}
	}
	close(stop)
	wg.Wait()
	if err != nil || v != 3 {
		t.Errorf("a well-behaved call during the flood: %v %v", v, err)
	}
	if took > time.Second {
		t.Errorf("a well-behaved call during the flood took %v: it waited for a slot of the flood's", took)
	}
	// The goroutines the test's client and dialled peer start, and the
	// gateway's own beyond its slots.
	const allowance = 150
	if peak > before+slots+allowance {
		t.Errorf("%d goroutines during a flood of %d calls (%d before, %d slots)", peak, flood, before, slots)
	}
	if ran := calc.calls.Load(); ran > flood/2 {
		t.Errorf("%d of %d calls ran although their deadline passed while waiting", ran, flood)
	}
	t.Logf("peak %d goroutines (%d before); well-behaved call took %v; %d calls ran; %d answered", peak, before, took, calc.calls.Load(), len(answered))
}

// TestCallLinePerService: each service of an instance has slots of its
// own, so a call to another service (one a method makes while it holds a
// slot, say) never waits behind the calls of a service whose slots are
// taken; and a call its caller cancels while it waits for a slot does not
// run. Before, one line held every service's calls (a method calling a
// sibling on the same instance could wait on itself), and a cancel found
// only calls already running.
func TestCallLinePerService(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	n, err := netron.New(netron.Config{MaxCallsPerPeer: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calc, adder := newCalc(), newCalc()
	if err := n.Register("adder", "1.0.0", adder); err != nil {
		t.Fatal(err)
	}
	ctx := serveOnNATS(t, n, addr, "calculator", "1.0.0", calc)
	p := dial(t, addr, netron.Config{})

	busy := make(chan error, 1)
	go func() {
		_, err := netron.CallUnary[int](ctx, p, "calculator@1.0.0", "work", 1500)
		busy <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for calc.calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// Another service of the instance is served at once.
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	v, err := netron.CallUnary[float64](actx, p, "adder@1.0.0", "add", 1, 2)
	cancel()
	if err != nil || v != 3 {
		t.Fatalf("adder while calculator's slot is taken: %v, %v", v, err)
	}
	// A call that waits for calculator's slot and is cancelled never runs.
	wctx, cancelWait := context.WithCancel(ctx)
	waited := make(chan error, 1)
	go func() {
		_, err := netron.CallUnary[int](wctx, p, "calculator@1.0.0", "work", 1)
		waited <- err
	}()
	time.Sleep(200 * time.Millisecond) // it is in line
	cancelWait()
	if err := <-waited; netron.CodeOf(err) != netron.CodeCanceled {
		t.Fatalf("the cancelled waiting call: %v", err)
	}
	if err := <-busy; err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the slot is free: a waiting call would run now
	if got := calc.calls.Load(); got != 1 {
		t.Errorf("calculator ran %d calls, want 1: the cancelled one ran after it waited", got)
	}
}

// A client sending each call under a caller id of its own (ids are not
// authenticated over NATS) gets no more than the service's bound running
// at once, 10 times Config.MaxCallsPerPeer, all callers together: the
// calls over it wait in line, as many as the line holds, and the rest are
// refused with resource_exhausted, naming the bounds.
func TestCallsOfManyCallerIDsAreBounded(t *testing.T) {
	t.Parallel()
	const perCaller, calls = 2, 100
	const slots, waiting = 10 * perCaller, 16 * perCaller // the service's bounds
	r := serveRawCalc(t, netron.Config{MaxCallsPerPeer: perCaller})
	calc, nc, prefix := r.calc, r.nc, r.prefix
	answers := subscribeAnswers(t, nc)
	// 3 s of work, cut at 2 s by the caller's timeout: the calls run, or
	// wait, until every call is taken in (under 0.2 s with -race).
	args, _ := protocol.AppendValue(nil, []any{3000})
	start := time.Now()
	// One call at a time, each taken in (begun, acknowledged in line or
	// refused) before the next is sent: NATS drops what a subscription
	// has not taken beyond its pending limit, the line's.
	var acked, refused int
	var refusal string
	for i := range calls {
		m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0.work")
		m.Reply = answers.Subject[:len(answers.Subject)-1] + "r." + strconv.Itoa(i)
		m.Data = args
		m.Header.Set(natstransport.HeaderCaller, "caller"+strconv.Itoa(i))
		m.Header.Set(natstransport.HeaderTimeout, "2000")
		before := calc.calls.Load()
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); ; {
			if calc.calls.Load() > before {
				break
			}
			// Running calls are acknowledged too, later: only call i's
			// first answer tells what became of it.
			a, err := answers.NextMsg(5 * time.Millisecond)
			if err == nil && strings.HasSuffix(a.Subject, ".r."+strconv.Itoa(i)) {
				if a.Header.Get(natstransport.HeaderAck) != "" {
					acked++
					break
				}
				pkt, err := protocol.DecodePacket(a.Data, protocol.Limits{})
				te, _ := pkt.Data.(*protocol.TitanError)
				if err != nil || te == nil || te.GoCode() != "resource_exhausted" {
					t.Fatalf("%s answered %v %#v while every call runs for 2 s; want an acknowledgement or resource_exhausted", a.Subject, err, pkt.Data)
				}
				refused++
				refusal = te.Message
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("call %d was neither begun nor answered in 5 s", i)
			}
		}
	}
	t.Logf("%d calls taken in in %v", calls, time.Since(start))
	if ran := calc.calls.Load(); ran != slots || acked != waiting || refused != calls-slots-waiting {
		t.Fatalf("%d calls from %d caller ids: %d ran, %d waited, %d were refused; want %d, %d, %d", calls, calls, ran, acked, refused, slots, waiting, calls-slots-waiting)
	}
	if !strings.Contains(refusal, "2 from one caller, 20 in all") {
		t.Errorf("the refusal %q does not name the bounds", refusal)
	}
}

// subscribeAnswers subscribes to the answers of a raw client's calls (their
// reply subjects are under answers.Subject without its ">"), with no limit
// on what waits to be read; the subscription ends with the test.
func subscribeAnswers(t *testing.T, nc *nats.Conn) *nats.Subscription {
	t.Helper()
	answers, err := nc.SubscribeSync(nc.NewInbox() + ".>")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = answers.Unsubscribe() })
	if err := answers.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	return answers
}
