package netron_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// heapLimit is what the server may hold while offenders flood it.
const heapLimit = 256 << 20

// heapBytes returns the bytes of heap objects (live or not yet swept) and
// goroutine stacks: what the process holds for Go values now.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// liveHeap returns the heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	return heapBytes()
}

// heapWatch samples heapBytes until stopped and keeps the highest value.
type heapWatch struct {
	peak atomic.Uint64
	over chan struct{} // closed when the peak passes heapLimit
	stop chan struct{}
	done chan struct{}
}

func watchHeap() *heapWatch {
	w := &heapWatch{over: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for {
			if h := heapBytes(); h > w.peak.Load() {
				w.peak.Store(h)
				if h > heapLimit {
					close(w.over)
					return
				}
			}
			select {
			case <-w.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return w
}

func (w *heapWatch) end() uint64 {
	close(w.stop)
	<-w.done
	return w.peak.Load()
}

// served keeps a well-behaved client calling add on its own connection
// until stopped, and counts what succeeded and what failed.
type served struct {
	ok, failed atomic.Int64
	slowest    atomic.Int64 // the longest call, in ns
	firstErr   atomic.Value
	stop       chan struct{}
	wg         sync.WaitGroup
}

func keepServing(t *testing.T, addr string, stream bool) *served {
	good := dial(t, addr)
	s := &served{stop: make(chan struct{})}
	s.wg.Go(func() {
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			// A generous timeout: while the offenders fill their queues
			// (and the kernel's socket buffers, a few MiB each), 100
			// producers share two cores with this client, more slowly
			// still under the race detector.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			begin := time.Now()
			err := func() error {
				v, err := netron.CallUnary[int](ctx, good, "calculator@1.0.0", "add", 2, 3)
				if err != nil {
					return err
				}
				if v != 5 {
					return errors.New("add(2, 3) is not 5")
				}
				if !stream {
					return nil
				}
				n := 0
				for _, err := range netron.CallStream[int](ctx, good, "calculator@1.0.0", "count", 20) {
					if err != nil {
						return err
					}
					n++
				}
				if n != 20 {
					return errors.New("a stream of 20 items gave fewer")
				}
				return nil
			}()
			cancel()
			if d := time.Since(begin); d > time.Duration(s.slowest.Load()) {
				s.slowest.Store(int64(d))
			}
			if err != nil {
				s.failed.Add(1)
				s.firstErr.CompareAndSwap(nil, err)
			} else {
				s.ok.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	return s
}

// check stops the client and fails the test unless every call succeeded
// and at least min did.
func (s *served) check(t *testing.T, min int64) {
	t.Helper()
	close(s.stop)
	s.wg.Wait()
	t.Logf("the well-behaved client: %d calls, the slowest %v", s.ok.Load(), time.Duration(s.slowest.Load()).Round(time.Millisecond))
	if f := s.failed.Load(); f > 0 {
		t.Errorf("the well-behaved client had %d failed calls (first: %v) and %d good ones", f, s.firstErr.Load(), s.ok.Load())
	}
	if s.ok.Load() < min {
		t.Errorf("the well-behaved client made %d calls during the flood, want at least %d", s.ok.Load(), min)
	}
}

// frame is a length-prefixed CALL packet for service.method(args...), as a
// TypeScript client sends it over TCP.
func frame(t testing.TB, id uint32, service, method string, args ...any) []byte {
	return packetFrame(t, &protocol.Packet{ID: id, Type: protocol.TypeCall, Impulse: true,
		Data: append([]any{service, method}, args...)})
}

// packetFrame is pkt encoded and length-prefixed, as it goes over TCP.
func packetFrame(t testing.TB, pkt *protocol.Packet) []byte {
	b, err := protocol.AppendPacket(nil, pkt)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// dialTCP opens a raw TCP connection to the tcp:// address addr, closed
// when the test ends.
func dialTCP(t testing.TB, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// fallsBack waits up to 10 s for the live heap to come within 16 MiB of
// base once the offenders have left.
func fallsBack(t *testing.T, base uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h := liveHeap()
		if h <= base+16<<20 {
			t.Logf("heap after the offenders left: %d MiB (before: %d MiB)", h>>20, base>>20)
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("heap %d MiB 10 s after the offenders left, %d MiB before they came", h>>20, base>>20)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A client that sends requests and never reads the replies is held back
// by TCP once its connection has MaxCallsPerPeer requests in flight and a
// full queue: the server's memory stays bounded, a well-behaved client is
// served throughout, and the memory comes back when the offender leaves.
func TestAcceptanceFloodOfUnreadRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test")
	}
	log, rec := captureLogger()
	s, _ := netronServer(t, "tcp", netron.Config{}, log)
	defer func() {
		if t.Failed() {
			rec.mu.Lock()
			t.Logf("server log:\n%s", strings.Join(rec.msgs[:min(len(rec.msgs), 20)], "\n"))
			rec.mu.Unlock()
		}
	}()
	good := keepServing(t, s.addr, false)
	base := liveHeap()
	w := watchHeap()

	nc := dialTCP(t, s.addr)
	// A small receive buffer, so that the kernel holds few of the replies
	// the offender does not read: the server's own bounds are what is
	// tested, and they are reached sooner.
	nc.(*net.TCPConn).SetReadBuffer(4 << 10)
	// 1,000 add requests a write, until the server has stopped reading for
	// two seconds (writes time out) or the heap passed the limit.
	var batch []byte
	for i := range 1000 {
		batch = append(batch, frame(t, uint32(i+1), "calculator@1.0.0", "add", 1, 2)...)
	}
	sent, off, blocked := 0, 0, time.Duration(0)
	start := time.Now()
flood:
	for time.Since(start) < 60*time.Second {
		select {
		case <-w.over:
			break flood
		default:
		}
		nc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := nc.Write(batch[off:]) // a write cut by its deadline goes on where it stopped
		sent += n
		off = (off + n) % len(batch)
		switch {
		case err == nil:
			blocked = 0
		case errors.Is(err, os.ErrDeadlineExceeded):
			if blocked += 100 * time.Millisecond; blocked >= 2*time.Second {
				break flood
			}
		default:
			t.Fatalf("flood write: %v", err)
		}
	}
	peak := w.end()
	t.Logf("flood: %d MiB sent in %v, peak heap %d MiB (base %d MiB)", sent>>20, time.Since(start).Round(time.Millisecond), peak>>20, base>>20)
	if peak > heapLimit {
		t.Errorf("the heap reached %d MiB under a flood of unread requests, want < %d MiB", peak>>20, heapLimit>>20)
	}
	if blocked < 2*time.Second {
		t.Errorf("the server kept reading the flood for %v", time.Since(start))
	}
	good.check(t, 10)
	nc.Close()
	fallsBack(t, base)
}

// 100 connections each start a stream of a billion items and never read:
// the queues of all connections together stay under Config.MaxQueuedBytes
// (the heap under 256 MiB), a well-behaved client still gets its calls and
// streams, and the memory comes back when the offenders leave.
func TestAcceptanceUnreadStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test")
	}
	s, prod := netronServer(t, "tcp", netron.Config{}, nil)
	good := keepServing(t, s.addr, true)
	base := liveHeap()
	w := watchHeap()

	const offenders = 100
	conns := make([]net.Conn, 0, offenders)
	defer func() {
		for _, nc := range conns {
			nc.Close()
		}
	}()
	call := frame(t, 1, "producer@1.0.0", "items", 1_000_000_000, 32)
	for range offenders {
		nc, err := net.Dial("tcp", strings.TrimPrefix(s.addr, "tcp://"))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, nc)
		if _, err := nc.Write(call); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the producers stop making progress (they wait for room),
	// or the heap passes the limit.
	last, still := int64(-1), 0
	for still < 10 {
		select {
		case <-w.over:
			still = 10
			continue
		case <-time.After(100 * time.Millisecond):
		}
		if y := prod.yielded.Load(); y == last {
			still++
		} else {
			last, still = y, 0
		}
	}
	// The well-behaved client keeps calling meanwhile: ten more calls with
	// their streams, however long a loaded machine takes to make them.
	stalled := good.ok.Load()
	for deadline := time.Now().Add(60 * time.Second); good.ok.Load() < stalled+10 && good.failed.Load() == 0; {
		if time.Now().After(deadline) {
			t.Errorf("the well-behaved client made %d calls in 60 s beside the stalled producers, want 10", good.ok.Load()-stalled)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	peak := w.end()
	t.Logf("%d unread streams: %d items yielded, peak heap %d MiB (base %d MiB)", offenders, prod.yielded.Load(), peak>>20, base>>20)
	if peak > heapLimit {
		t.Errorf("the heap reached %d MiB with %d unread streams, want < %d MiB", peak>>20, offenders, heapLimit>>20)
	}
	good.check(t, 10)
	for _, nc := range conns {
		nc.Close()
	}
	fallsBack(t, base)
}

// A connection that reads nothing while what is sent to it waits (here a
// stream of 4 KiB items, which fills the kernel's buffers quickly even
// under the race detector) is closed once no write has completed for
// WriteStallTimeout, with a log record saying why; the server keeps
// serving others.
func TestAcceptanceStalledReaderClosed(t *testing.T) {
	t.Parallel()
	log, rec := captureLogger()
	s, _ := netronServer(t, "tcp", netron.Config{WriteStallTimeout: 300 * time.Millisecond}, log)
	nc := dialTCP(t, s.addr)
	nc.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := nc.Write(frame(t, 1, "producer@1.0.0", "items", 1_000_000_000, 4096)); err != nil {
		t.Fatal(err)
	}
	rec.waitForWithin(t, 30*time.Second, "closing connection: the peer reads nothing")
	// The server closed it and forgot its peer. (What the kernel still
	// holds for the client drains at the kernel's pace: not checked.)
	for deadline := time.Now().Add(5 * time.Second); len(s.n.Peers()) > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the stalled connection's peer is still there 5 s after it was closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p := dial(t, s.addr)
	if v, err := netron.CallUnary[int](context.Background(), p, "calculator@1.0.0", "add", 2, 3); err != nil || v != 5 {
		t.Fatalf("add after the stalled connection was closed: %v, %v", v, err)
	}
}

// A client sends the items of streams nobody reads (ids it made up, as
// a producer without a window may): the server holds at most
// MaxStreamBytesPerPeer of them per connection, ending the streams that
// would pass it, instead of every item until the streams' idle timeout;
// a well-behaved client is served throughout.
func TestAcceptanceFloodOfUnreadStreamItems(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test")
	}
	s, _ := netronServer(t, "tcp", netron.Config{MaxStreamBytesPerPeer: 4 << 20}, nil)
	good := keepServing(t, s.addr, false)
	base := liveHeap()
	w := watchHeap()
	nc := dialTCP(t, s.addr)
	// 1,600 items of 60 KiB (94 MiB) over four streams, none of them read.
	payload := make([]byte, 60<<10)
	for i := range 1600 {
		item := packetFrame(t, &protocol.Packet{ID: uint32(i + 1), Type: protocol.TypeStream, Impulse: true,
			StreamID: uint32(700 + i%4), StreamIndex: uint32(i / 4), Data: payload})
		if _, err := nc.Write(item); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	time.Sleep(200 * time.Millisecond) // the server files what it has read
	peak := w.end()
	held := liveHeap()
	t.Logf("live heap after 94 MiB of unread stream items: %d MiB, peak %d MiB (base %d MiB)", held>>20, peak>>20, base>>20)
	if held > base+16<<20 {
		t.Errorf("the server holds %d MiB of unread stream items, want at most maxStreamBytesPerPeer (4 MiB) and little more", (held-base)>>20)
	}
	good.check(t, 10)
}
