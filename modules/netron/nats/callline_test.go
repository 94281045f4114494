package nats_test

import (
	"context"
	"runtime"
	"strconv"
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
// is served meanwhile, and the calls whose deadline passed while they
// waited are answered deadline_exceeded without running.
func TestCallFloodIsBounded(t *testing.T) {
	const slots, flood = 32, 1000
	r := serveRawCalc(t, netron.Config{MaxCallsPerPeer: slots})
	ctx, addr, calc, nc, prefix := r.ctx, r.addr, r.calc, r.nc, r.prefix
	before := runtime.NumGoroutine()
	answers, err := nc.SubscribeSync(nc.NewInbox() + ".>")
	if err != nil {
		t.Fatal(err)
	}
	defer answers.Unsubscribe()
	if err := answers.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
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
	time.Sleep(time.Second) // the flood's calls run or wait meanwhile
	close(stop)
	wg.Wait()
	if err != nil || v != 3 {
		t.Errorf("a well-behaved call during the flood: %v %v", v, err)
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
	t.Logf("peak %d goroutines (%d before); well-behaved call took %v; %d calls ran", peak, before, took, calc.calls.Load())
}
