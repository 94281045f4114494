package session

import (
	"slices"
	"sync"
	"testing"
	"time"
)

type servedCall struct{ name string }

// Take hands out at most the table's slots; one more waits until a slot
// is freed or until done closes.
func TestServedSlots(t *testing.T) {
	s := NewServed[*servedCall](2)
	done := make(chan struct{})
	if !s.Take(done) || !s.Take(done) {
		t.Fatal("the first two slots were refused")
	}
	if !s.Full() {
		t.Fatal("two of two slots taken, Full says no")
	}
	got := make(chan bool)
	go func() { got <- s.Take(done) }()
	select {
	case <-got:
		t.Fatal("a third slot was handed out while two were taken")
	case <-time.After(50 * time.Millisecond):
	}
	s.Free()
	if !<-got {
		t.Fatal("the waiting Take failed after a slot was freed")
	}
	go func() { got <- s.Take(done) }()
	close(done)
	if <-got {
		t.Fatal("a Take waiting when done closed succeeded")
	}
	s.Free()
	if s.Full() {
		t.Fatal("a slot was freed, Full still says yes")
	}
}

// Track, Get and Untrack by id; Untrack leaves another entry of the same
// id alone; End returns every entry once and Track refuses after it.
func TestServedTable(t *testing.T) {
	s := NewServed[*servedCall](4)
	a, b, c := &servedCall{"a"}, &servedCall{"b"}, &servedCall{"c"}
	if !s.Track(1, a) || !s.Track(2, b) {
		t.Fatal("Track refused before End")
	}
	if v, ok := s.Get(1); !ok || v != a {
		t.Fatalf("Get(1) = %v, %v", v, ok)
	}
	var forgotten []string
	forget := func(v *servedCall) { forgotten = append(forgotten, v.name) }
	s.Untrack(1, c, forget) // not 1's entry: nothing happens
	if v, ok := s.Get(1); !ok || v != a || len(forgotten) != 0 {
		t.Fatalf("Untrack of another entry removed 1's: %v, %v, %v", v, ok, forgotten)
	}
	s.Untrack(1, a, forget)
	if _, ok := s.Get(1); ok || !slices.Equal(forgotten, []string{"a"}) {
		t.Fatalf("after Untrack(1): present %v, done ran for %v", ok, forgotten)
	}
	s.Untrack(1, a, forget) // twice: done does not run again
	if len(forgotten) != 1 {
		t.Fatalf("done ran for %v", forgotten)
	}
	var seen []string
	s.Each(func(v *servedCall) { seen = append(seen, v.name) })
	if !slices.Equal(seen, []string{"b"}) {
		t.Fatalf("Each saw %v, want [b]", seen)
	}
	ended := s.End()
	if len(ended) != 1 || ended[0] != b {
		t.Fatalf("End returned %v, want [b]", ended)
	}
	if s.Track(3, c) {
		t.Fatal("Track accepted an entry after End")
	}
	if _, ok := s.Get(3); ok || len(s.End()) != 0 {
		t.Fatal("the table kept an entry after End")
	}
}

// Concurrent Track/Untrack/Each/End under the race detector: End returns
// exactly the entries tracked and not untracked before it.
func TestServedConcurrent(t *testing.T) {
	s := NewServed[*servedCall](64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				id := uint32(g*1000 + i)
				v := &servedCall{}
				if s.Track(id, v) {
					s.Each(func(*servedCall) {})
					s.Untrack(id, v, nil)
				}
			}
		}()
	}
	wg.Wait()
	keep := &servedCall{"kept"}
	s.Track(99999, keep)
	if ended := s.End(); len(ended) != 1 || ended[0] != keep {
		t.Fatalf("End returned %d entries, want the one kept", len(ended))
	}
}

// An id tracked again while its first entry runs (a peer reused a request
// id): Get finds the latest, each entry is untracked on its own, and End
// returns both, so that the connection's end ends both.
func TestServedReusedID(t *testing.T) {
	s := NewServed[*servedCall](4)
	a, b := &servedCall{"a"}, &servedCall{"b"}
	s.Track(1, a)
	s.Track(1, b)
	if v, ok := s.Get(1); !ok || v != b {
		t.Fatalf("Get(1) = %v, %v, want b", v, ok)
	}
	var seen []string
	s.Each(func(v *servedCall) { seen = append(seen, v.name) })
	slices.Sort(seen)
	if !slices.Equal(seen, []string{"a", "b"}) {
		t.Fatalf("Each saw %v, want [a b]", seen)
	}
	ended := s.End()
	if len(ended) != 2 {
		t.Fatalf("End returned %d entries, want both entries of id 1", len(ended))
	}

	s = NewServed[*servedCall](4)
	s.Track(1, a)
	s.Track(1, b)
	var forgotten []string
	forget := func(v *servedCall) { forgotten = append(forgotten, v.name) }
	s.Untrack(1, a, forget)
	s.Untrack(1, a, forget) // twice: done does not run again
	if v, ok := s.Get(1); !ok || v != b || !slices.Equal(forgotten, []string{"a"}) {
		t.Fatalf("after Untrack(1, a): Get = %v, %v; done ran for %v", v, ok, forgotten)
	}
	if ended := s.End(); len(ended) != 1 || ended[0] != b {
		t.Fatalf("End returned %v, want [b]", ended)
	}
}
