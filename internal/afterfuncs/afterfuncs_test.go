package afterfuncs

import (
	"sync"
	"testing"
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
