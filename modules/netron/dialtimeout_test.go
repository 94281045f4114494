package netron_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// A dial whose context has no deadline, to an address that accepts and
// never sends the server's id, ends after handshakeTimeout with an error
// naming the address and the setting, instead of holding the caller for
// ever: Netron.Dial and a pool's Start alike.
func TestDialWithoutDeadlineToSilentAddress(t *testing.T) {
	t.Parallel()
	silent := transporttest.SilentAddr(t)
	n, err := netron.New(netron.Config{HandshakeTimeout: 300 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })

	check := func(what string, err error, took time.Duration) {
		t.Helper()
		if err == nil {
			t.Errorf("%s to a silent address succeeded", what)
			return
		}
		if took > 5*time.Second {
			t.Errorf("%s took %v, want about handshakeTimeout (300ms)", what, took)
		}
		for _, want := range []string{strings.TrimPrefix(silent, "tcp://"), "handshakeTimeout (300ms)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not name %q", what, err, want)
			}
		}
		if netron.CodeOf(err) != netron.CodeUnavailable || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: error %q is %v, want unavailable and context.DeadlineExceeded", what, err, netron.CodeOf(err))
		}
	}

	// The three dials run at once: each waits out a bound of its own.
	var wg sync.WaitGroup
	wg.Go(func() {
		start := time.Now()
		_, err := n.Dial(context.Background(), silent)
		check("Dial", err, time.Since(start))
	})

	pl, err := n.NewPool("echo", nil, netron.WithAddress(silent))
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	wg.Go(func() {
		start := time.Now()
		err := pl.Start(context.Background())
		check("Pool.Start", err, time.Since(start))
	})

	// A deadline of the caller's own still rules, longer or shorter.
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 900*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := n.Dial(ctx, silent); err == nil {
			t.Error("Dial with a deadline to a silent address succeeded")
		} else if took := time.Since(start); took < 800*time.Millisecond {
			t.Errorf("Dial with a 900ms deadline gave up after %v (%v): the caller's deadline rules", took, err)
		}
	})
	wg.Wait()
}
