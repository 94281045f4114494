package nats_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// childEnv makes the test binary run as a calculator instance serving on
// the NATS address the variable holds.
const childEnv = "TITAN_NATS_TEST_CHILD"

// runChild serves the calculator on NATS until SIGTERM, then drains and
// prints how many calls it served.
func runChild() int {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	calc := newCalc()
	if err := n.Register("calculator", "1.0.0", calc); err != nil {
		fmt.Println("error", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.Listen(ctx, os.Getenv(childEnv)); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("ready")
	<-sig
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	if err := n.Stop(sctx); err != nil {
		fmt.Println("error", err)
	}
	fmt.Printf("served %d\n", calc.calls.Load())
	return 0
}

type child struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
}

// startChild starts an instance in a process of its own.
func startChild(t *testing.T, url string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+url, "GORACE=atexit_sleep_ms=0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 16), done: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(c.lines)
		defer close(read)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	go func() {
		// Wait closes the pipe once the process has exited: only after
		// the last line is read, or that line can be lost (the instance
		// then seems to exit without printing it).
		<-read
		_ = cmd.Wait()
		close(c.done)
	}()
	return c
}

// waitLine waits for a line starting with prefix.
func (c *child) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("the instance exited before printing %q", prefix)
			}
			if strings.HasPrefix(l, "error") {
				t.Fatalf("instance: %s", l)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("no %q from the instance", prefix)
		}
	}
}

// stop sends SIGTERM and returns how many calls the instance served.
func (c *child) stop(t *testing.T) int {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return c.served(t)
}

func (c *child) served(t *testing.T) int {
	t.Helper()
	l := c.waitLine(t, "served ")
	n, err := strconv.Atoi(strings.TrimPrefix(l, "served "))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// twoInstances starts two instance processes and a client.
func twoInstances(t *testing.T) (a, b *child, p *netron.Peer) {
	url := testURL(t)
	a, b = startChild(t, url), startChild(t, url)
	a.waitLine(t, "ready")
	b.waitLine(t, "ready")
	return a, b, dial(t, url, netron.Config{})
}

// load makes total calls of work(ms) from workers goroutines, each
// bounded by 5 s; after `after` calls it runs event once.
func load(p *netron.Peer, total, workers, ms, after int, event func()) (results []error, took []time.Duration, started []time.Time) {
	results = make([]error, total)
	took = make([]time.Duration, total)
	started = make([]time.Time, total)
	var next, finished atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				started[i] = time.Now()
				_, err := netron.CallUnary[int](ctx, p, "calculator@^1", "work", ms)
				took[i] = time.Since(started[i])
				cancel()
				results[i] = err
				if int(finished.Add(1)) == after && event != nil {
					once.Do(event)
				}
			}
		}()
	}
	wg.Wait()
	return results, took, started
}

func TestTwoInstancesShareTheLoad(t *testing.T) {
	t.Parallel()
	a, b, p := twoInstances(t)
	const total = 1000
	results, _, _ := load(p, total, 16, 0, 0, nil)
	for i, err := range results {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	sa, sb := a.stop(t), b.stop(t)
	t.Logf("instance A served %d calls, B %d", sa, sb)
	if sa+sb != total {
		t.Fatalf("served %d + %d calls, want %d", sa, sb, total)
	}
	for _, s := range []int{sa, sb} {
		if s < total*30/100 || s > total*70/100 {
			t.Fatalf("shares %d / %d: outside 30-70 %%", sa, sb)
		}
	}
}

func TestSIGTERMUnderLoadLosesNoCall(t *testing.T) {
	t.Parallel()
	a, b, p := twoInstances(t)
	const total = 2000
	results, _, _ := load(p, total, 16, 5, 300, func() { _ = a.cmd.Process.Signal(syscall.SIGTERM) })
	failed := 0
	for i, err := range results {
		if err != nil {
			failed++
			if failed < 5 {
				t.Errorf("call %d: %v", i, err)
			}
		}
	}
	sa := a.served(t)
	sb := b.stop(t)
	t.Logf("A (SIGTERM) served %d calls, B %d; %d failed", sa, sb, failed)
	if failed > 0 {
		t.Fatalf("%d of %d calls failed", failed, total)
	}
	if sa+sb != total {
		t.Fatalf("served %d + %d calls, want %d exactly once each", sa, sb, total)
	}
}

func TestSIGKILLUnderLoadFailsFast(t *testing.T) {
	t.Parallel()
	a, b, p := twoInstances(t)
	const total = 2000
	var killed time.Time
	results, took, started := load(p, total, 16, 5, 300, func() {
		killed = time.Now()
		_ = a.cmd.Process.Kill()
	})
	failed, late := 0, 0
	var slowest time.Duration
	for i, err := range results {
		slowest = max(slowest, took[i])
		if err == nil {
			continue
		}
		failed++
		if netron.CodeOf(err) != netron.CodeUnavailable {
			t.Errorf("call %d failed with %v, want unavailable", i, err)
		}
		if started[i].After(killed.Add(2 * time.Second)) {
			late++
		}
	}
	sb := b.stop(t)
	t.Logf("A killed after %d calls; %d calls failed with unavailable; B served %d; slowest call %v", 300, failed, sb, slowest)
	if slowest > 4*time.Second {
		t.Fatalf("a call took %v", slowest)
	}
	if late > 0 {
		t.Fatalf("%d calls started 2 s after the kill still failed", late)
	}
}

func TestSIGKILLFailsLongCallsAndStreams(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	a := startChild(t, url)
	a.waitLine(t, "ready")
	p := dial(t, url, netron.Config{StreamWindow: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := p.OpenStream(ctx, "calculator@^1", "count", 1000000)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.Recv(&v); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := p.Call(ctx, "calculator@^1", "work", 8000)
		errc <- err
	}()
	time.Sleep(700 * time.Millisecond) // the call is acknowledged and probed
	killed := time.Now()
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err = <-errc
	if netron.CodeOf(err) != netron.CodeUnavailable || time.Since(killed) > 2500*time.Millisecond {
		t.Fatalf("long call after SIGKILL: %v after %v", err, time.Since(killed))
	}
	t.Logf("long call failed %v after the kill: %v", time.Since(killed), err)
	for {
		if err = s.Recv(&v); err != nil {
			break
		}
	}
	if netron.CodeOf(err) != netron.CodeUnavailable || time.Since(killed) > 3*time.Second {
		t.Fatalf("stream after SIGKILL: %v after %v", err, time.Since(killed))
	}
	t.Logf("stream ended %v after the kill: %v", time.Since(killed), err)
}
