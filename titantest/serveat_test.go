package titantest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/titantest"
)

// failingTB is a testing.TB whose Fatal ends the goroutine, as the
// testing package's does, without failing the test it stands in, and
// whose cleanups run when the test says so.
type failingTB struct {
	testing.TB
	mu       sync.Mutex
	fatal    []string
	cleanups []func()
}

func (f *failingTB) Fatal(args ...any) {
	f.mu.Lock()
	f.fatal = append(f.fatal, fmt.Sprint(args...))
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *failingTB) Fatalf(format string, args ...any) { f.Fatal(fmt.Sprintf(format, args...)) }

func (f *failingTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// cleanUp runs the cleanups, the last registered first.
func (f *failingTB) cleanUp() {
	f.mu.Lock()
	fns := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// TestServeAtStopsWhatRegisterStarted: when register or Listen fails the
// test, the Netron that ServeAt made is stopped when the test ends, with
// what register started on it (here a TCP listener).
func TestServeAtStopsWhatRegisterStarted(t *testing.T) {
	tests := []struct {
		name    string
		addr    string
		failReg bool
	}{
		{"register fails", "mem://", true},
		{"Listen fails", "nosuchscheme://x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var started string
			register := func(n *netron.Netron) error {
				addr, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
				if err != nil {
					return err
				}
				started = addr
				if tt.failReg {
					return errors.New("register failed")
				}
				return nil
			}
			tb := &failingTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				titantest.ServeAt(tb, tt.addr, netron.Config{}, register)
			}()
			<-done
			if len(tb.fatal) == 0 {
				tb.cleanUp()
				t.Fatal("ServeAt did not fail the test")
			}
			if started == "" {
				t.Fatalf("register did not listen: %v", tb.fatal)
			}
			tb.cleanUp()
			u, err := url.Parse(started)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
				c.Close()
				t.Fatalf("after the test's cleanups the listener register started (%s) still accepts connections", started)
			}
		})
	}
}
