package nats_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/titantest"

	"github.com/nats-io/nuid"
	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/nats"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	goleak.VerifyTestMain(m)
}

// testURL returns a nats:// address under a prefix of its own, so that
// tests (and concurrent test runs) do not see each other's instances.
func testURL(t testing.TB) string {
	return testsrv.NATS(t) + "?prefix=t" + strings.ToLower(nuid.Next())
}

type Point struct {
	X int `json:"x" jsonschema:"minimum=0"`
	Y int `json:"y"`
}

// Calc is the test service.
type Calc struct {
	calls    atomic.Int64
	slow     atomic.Int64 // calls of Slow begun
	produced atomic.Int64
	canceled chan string
}

func newCalc() *Calc { return &Calc{canceled: make(chan string, 16)} }

func (c *Calc) Add(_ context.Context, a, b float64) (float64, error) {
	c.calls.Add(1)
	return a + b, nil
}

// Work sleeps ms milliseconds and counts the call.
func (c *Calc) Work(ctx context.Context, ms int) (int, error) {
	c.calls.Add(1)
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
		return ms, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (c *Calc) Move(_ context.Context, p Point, dx int) (Point, error) {
	return Point{X: p.X + dx, Y: p.Y}, nil
}

func (c *Calc) Reset(context.Context) error { return nil }

func (c *Calc) Fail(_ context.Context, code string) error {
	cd, ok := netron.CodeOfName(code)
	if !ok {
		return errors.New("plain failure")
	}
	return netron.NewError(cd, fmt.Errorf("failed with %s", code))
}

func (c *Calc) Panic(context.Context) (int, error) { panic("boom") }

func (c *Calc) Negative(context.Context) (Point, error) { return Point{X: -1}, nil }

func (c *Calc) Meta(ctx context.Context) (string, error) {
	dl, ok := ctx.Deadline()
	return fmt.Sprintf("deadline=%v left=%v", ok, ok && time.Until(dl) > 0), nil
}

func (c *Calc) Count(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		defer func() {
			if ctx.Err() != nil {
				c.canceled <- "count"
			}
		}()
		for i := range n {
			c.produced.Add(1)
			if !yield(i, nil) {
				return
			}
		}
	}
}

// Blob yields n strings of size bytes, counting each before it is yielded.
func (c *Calc) Blob(_ context.Context, n, size int) iter.Seq2[string, error] {
	item := strings.Repeat("b", size)
	return func(yield func(string, error) bool) {
		for range n {
			c.produced.Add(1)
			if !yield(item, nil) {
				return
			}
		}
	}
}

func (c *Calc) Broken(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
		yield(0, netron.Errorf(netron.CodeDataLoss, "broken after %d", n))
	}
}

func (c *Calc) Slow(ctx context.Context, d time.Duration) (string, error) {
	c.slow.Add(1)
	select {
	case <-time.After(d):
		return "done", nil
	case <-ctx.Done():
		c.canceled <- "slow"
		return "", ctx.Err()
	}
}

// startInstance starts a Netron serving the calculator on url.
func startInstance(t testing.TB, url string, version string) (*netron.Netron, *Calc) {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil, titantest.AppFeatures(t, netron.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	calc := newCalc()
	if err := n.Register("calculator", version, calc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := n.Listen(ctx, url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return n, calc
}

// dial connects a client to url.
func dial(t testing.TB, url string, cfg netron.Config) *netron.Peer {
	t.Helper()
	n, err := netron.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := n.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		n.Stop(context.Background())
	})
	return p
}
