package http

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// countingWriter is a ResponseWriter that counts writes and flushes.
type countingWriter struct {
	mu              sync.Mutex
	writes, flushes int
	buffered        int // bytes written since the last flush
	flushed         int // bytes flushed
}

func (w *countingWriter) Header() http.Header { return http.Header{} }
func (w *countingWriter) WriteHeader(int)     {}
func (w *countingWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	w.buffered += len(b)
	return len(b), nil
}
func (w *countingWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushes++
	w.flushed += w.buffered
	w.buffered = 0
}

func (w *countingWriter) counts() (writes, flushes, buffered, flushed int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes, w.flushes, w.buffered, w.flushed
}

// TestStreamFlusherCoalesces: a burst of items is flushed a few times,
// not once per item; the last of them is flushed by the timer without
// another write; items further apart than the period are flushed at once.
func TestStreamFlusherCoalesces(t *testing.T) {
	w := &countingWriter{}
	f := newStreamFlusher(w, 50*time.Millisecond, nil, 0, nil)
	start := time.Now()
	for range 1000 {
		if err := f.write([]byte("item\n")); err != nil {
			t.Fatal(err)
		}
	}
	burst := time.Since(start)
	writes, flushes, _, _ := w.counts()
	if writes != 1000 || flushes > 1+int(burst/(50*time.Millisecond)) {
		t.Fatalf("1000 items in %v: %d writes, %d flushes", burst, writes, flushes)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, _, buffered, flushed := w.counts(); buffered == 0 && flushed == 5000 {
			break
		}
		if time.Now().After(deadline) {
			_, flushes, buffered, _ := w.counts()
			t.Fatalf("the burst's tail was not flushed by the timer: %d flushes, %d bytes buffered", flushes, buffered)
		}
		time.Sleep(5 * time.Millisecond)
	}

	w = &countingWriter{}
	f = newStreamFlusher(w, time.Millisecond, nil, 0, nil)
	for i := range 5 {
		time.Sleep(3 * time.Millisecond)
		if err := f.write([]byte("item\n")); err != nil {
			t.Fatal(err)
		}
		if _, flushes, buffered, _ := w.counts(); flushes != i+1 || buffered != 0 {
			t.Fatalf("item %d, written after a quiet period, not flushed at once: %d flushes, %d bytes buffered", i, flushes, buffered)
		}
	}
	f.finish([]byte("end\n"))
	if _, flushes, buffered, _ := w.counts(); flushes != 6 || buffered != 0 {
		t.Fatalf("finish: %d flushes, %d bytes buffered", flushes, buffered)
	}
	// Nothing touches the response after finish.
	time.Sleep(5 * time.Millisecond)
	if _, flushes, _, _ := w.counts(); flushes != 6 {
		t.Fatalf("a flush after finish: %d", flushes)
	}
}
