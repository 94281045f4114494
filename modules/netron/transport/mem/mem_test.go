package mem_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron/transport"
	_ "github.com/titanframework/titan/modules/netron/transport/mem"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) { transporttest.Run(t, "mem") }

func TestCapabilities(t *testing.T) {
	tr, err := transport.Lookup("mem")
	if err != nil {
		t.Fatal(err)
	}
	want := transport.Capabilities{Streaming: true, Bidirectional: true, Binary: true, Reconnection: true, MaxFrameSize: 16 << 20}
	if got := tr.Capabilities(); got != want {
		t.Fatalf("Capabilities() = %+v, want %+v", got, want)
	}
}

func TestNamedListener(t *testing.T) {
	ctx := context.Background()
	l, err := transport.Listen(ctx, "mem://calculator", transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Addr() != "mem://calculator" {
		t.Fatalf("Addr() = %q", l.Addr())
	}
	if _, err := transport.Listen(ctx, "mem://calculator", transport.Options{}); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("second Listen on mem://calculator = %v, want an 'exists already' error", err)
	}
	// mem:name names the same listener.
	c, err := transport.Dial(ctx, "mem:calculator", transport.Options{})
	if err != nil {
		t.Fatalf("Dial mem:calculator: %v", err)
	}
	defer c.Close()
	s, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := c.WriteMessages([]byte("2+2")); err != nil {
		t.Fatal(err)
	}
	if m, err := s.ReadMessage(); err != nil || string(m) != "2+2" {
		t.Fatalf("ReadMessage = %q, %v", m, err)
	}
	// After Close the name is free again.
	_ = l.Close()
	l2, err := transport.Listen(ctx, "mem://calculator", transport.Options{})
	if err != nil {
		t.Fatalf("Listen after Close: %v", err)
	}
	_ = l2.Close()
}

func TestAutomaticNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 5 {
		l := transporttest.Listen(t, "mem", transport.Options{})
		if seen[l.Addr()] || l.Addr() == "mem://" {
			t.Fatalf("Addr() = %q, not a fresh name", l.Addr())
		}
		seen[l.Addr()] = true
	}
}

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		addr string
		o    transport.Options
		want string
	}{
		{"mem://nobody", transport.Options{}, `no mem listener named "nobody"`},
		{"mem://", transport.Options{}, "names no listener"},
		{"mem://a/b", transport.Options{}, "want mem://name"},
		{"mem://a:1", transport.Options{}, "use letters"},
		{"mem://x", transport.Options{TLS: &tls.Config{}}, "TLS is not supported"},
		{"mem://x", transport.Options{MaxFrameSize: -5}, "MaxFrameSize"},
	} {
		if c, err := transport.Dial(ctx, tc.addr, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			if c != nil {
				_ = c.Close()
			}
			t.Errorf("Dial(%q) = %v, want an error containing %q", tc.addr, err, tc.want)
		}
	}
}

// TestMessagesAreCopied checks that the peers share no memory.
func TestMessagesAreCopied(t *testing.T) {
	client, server := transporttest.Pair(t, "mem", transport.Options{})
	msg := []byte("original")
	if err := client.WriteMessages(msg); err != nil {
		t.Fatal(err)
	}
	copy(msg, "MUTATED!")
	got, err := server.ReadMessage()
	if err != nil || string(got) != "original" {
		t.Fatalf("ReadMessage = %q, %v; want the bytes as they were when written", got, err)
	}
}

// TestBackPressure checks that a writer blocks once the peer holds 256 unread messages, and
// resumes when the reader catches up.
func TestBackPressure(t *testing.T) {
	client, server := transporttest.Pair(t, "mem", transport.Options{})
	for i := range 256 {
		if err := client.WriteMessages([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	blocked := make(chan error, 1)
	go func() { blocked <- client.WriteMessages([]byte("overflow")) }()
	select {
	case err := <-blocked:
		t.Fatalf("the 257th unread message was accepted (err %v); want the writer to block", err)
	case <-time.After(50 * time.Millisecond):
	}
	if m, err := server.ReadMessage(); err != nil || len(m) != 1 || m[0] != 0 {
		t.Fatalf("ReadMessage = %v, %v", m, err)
	}
	select {
	case err := <-blocked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the writer stayed blocked after the reader made room")
	}
}

// TestByteBudget checks that unread bytes are bounded too, while one message larger than the
// budget still passes on its own.
func TestByteBudget(t *testing.T) {
	client, server := transporttest.Pair(t, "mem", transport.Options{})
	big := make([]byte, 3<<20)
	if err := client.WriteMessages(big); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() { blocked <- client.WriteMessages(big) }() // 6 MiB unread would exceed 4 MiB
	select {
	case err := <-blocked:
		t.Fatalf("6 MiB of unread bytes were accepted (err %v); want the writer to block", err)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := server.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
	huge := make([]byte, 10<<20) // alone in an empty queue, larger than the budget
	if _, err := server.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteMessages(huge); err != nil {
		t.Fatal(err)
	}
	if m, err := server.ReadMessage(); err != nil || len(m) != len(huge) {
		t.Fatalf("ReadMessage = %d bytes, %v", len(m), err)
	}
}

func TestWriteAfterPeerClose(t *testing.T) {
	client, server := transporttest.Pair(t, "mem", transport.Options{})
	_ = server.Close()
	err := client.WriteMessages([]byte("x"))
	if !errors.Is(err, io.ErrClosedPipe) || !strings.Contains(err.Error(), "peer closed") {
		t.Fatalf("WriteMessages after the peer closed = %v, want io.ErrClosedPipe", err)
	}
}

// TestListenerCloseClosesBacklog checks that connections dialed but never accepted are closed
// when the listener closes, so their dialers see the end of the stream.
func TestListenerCloseClosesBacklog(t *testing.T) {
	l, err := transport.Listen(context.Background(), "mem://", transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := transport.Dial(context.Background(), l.Addr(), transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = l.Close()
	if _, err := c.ReadMessage(); err != io.EOF {
		t.Fatalf("ReadMessage on a never-accepted conn after the listener closed = %v, want io.EOF", err)
	}
}

// TestDialWaitsForBacklog checks that Dial honours ctx while the backlog is full, and that
// concurrent Dial and Close neither lose nor leak connections.
func TestDialWaitsForBacklog(t *testing.T) {
	l := transporttest.Listen(t, "mem", transport.Options{})
	var conns []transport.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		c, err := transport.Dial(ctx, l.Addr(), transport.Options{})
		cancel()
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Dial = %v, want context.DeadlineExceeded once the backlog is full", err)
			}
			break
		}
		conns = append(conns, c)
		if len(conns) > 10000 {
			t.Fatal("the backlog never filled")
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if c, err := transport.Dial(ctx, l.Addr(), transport.Options{}); err == nil {
				_ = c.Close()
			}
		})
	}
	time.Sleep(10 * time.Millisecond)
	_ = l.Close()
	wg.Wait()
	for _, c := range conns {
		if _, err := c.ReadMessage(); err != io.EOF {
			t.Fatalf("queued conn after listener close: ReadMessage = %v, want io.EOF", err)
		}
	}
}

func BenchmarkRoundTrip(b *testing.B) { transporttest.BenchmarkRoundTrip(b, "mem") }

// A query, which mem:// addresses do not read, is refused by Listen and Dial with an error
// that names the address and the key.
func TestQueryIsRefused(t *testing.T) {
	ctx := context.Background()
	l := transporttest.Listen(t, "mem", transport.Options{})
	for _, addr := range []string{"mem://query-test?size=1", l.Addr() + "?size=1"} {
		nl, err := transport.Listen(ctx, addr, transport.Options{})
		if err == nil {
			_ = nl.Close()
		}
		if err == nil || !strings.Contains(err.Error(), `"size"`) || !strings.Contains(err.Error(), "mem://") {
			t.Errorf("Listen(%q) = %v, want the query refused naming the address and the key", addr, err)
		}
	}
	c, err := transport.Dial(ctx, l.Addr()+"?size=1", transport.Options{})
	if err == nil {
		_ = c.Close()
	}
	if err == nil || !strings.Contains(err.Error(), `"size"`) || !strings.Contains(err.Error(), l.Addr()) {
		t.Errorf("Dial(%q) = %v, want the query refused naming the address and the key", l.Addr()+"?size=1", err)
	}
}
