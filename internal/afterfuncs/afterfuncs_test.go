package afterfuncs

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestList(t *testing.T) {
	var mu sync.Mutex
	var l List
	ran := make(chan int, 3)
	mu.Lock()
	stop1 := l.Add(&mu, func() { ran <- 1 })
	l.Add(&mu, func() { ran <- 2 })
	mu.Unlock()
	if !stop1() || stop1() {
		t.Fatal("stop: want true once, then false")
	}
	mu.Lock()
	stop3 := l.Add(&mu, func() { ran <- 3 })
	taken := l.Take()
	mu.Unlock()
	if stop3() {
		t.Fatal("stop after Take reported true")
	}
	taken.Run()
	got := map[int]bool{<-ran: true, <-ran: true}
	if !got[2] || !got[3] || len(ran) != 0 {
		t.Fatalf("ran %v", got)
	}
}

// TestStopReleases: a function that stop removed is no longer held by
// the list, so what it captures (a child context, and what that one
// holds) can be freed while the context it was registered on lives on.
func TestStopReleases(t *testing.T) {
	var mu sync.Mutex
	var l List
	freed := make(chan struct{})
	func() {
		held := new([1 << 10]byte)
		runtime.SetFinalizer(held, func(*[1 << 10]byte) { close(freed) })
		mu.Lock()
		stop := l.Add(&mu, func() { held[0]++ })
		mu.Unlock()
		if !stop() {
			t.Fatal("stop: want true")
		}
	}()
	deadline := time.After(10 * time.Second)
	for {
		runtime.GC()
		select {
		case <-freed:
			runtime.KeepAlive(&l)
			return
		case <-deadline:
			t.Fatal("a function stop removed is still held by the list 10s later")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
