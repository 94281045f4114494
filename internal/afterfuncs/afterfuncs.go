// Package afterfuncs keeps the functions that a context.Context of our own
// runs when it ends: what its AfterFunc method registers, so that
// context.WithCancel, WithTimeout and AfterFunc on top of it follow it
// without a goroutine each.
package afterfuncs

import (
	"slices"
	"sync"
)

// List is the registered functions. The context's own mutex guards it:
// Add and Take are called with that mutex held.
type List struct{ fs []*func() }

// Add registers f. stop, which takes mu (the mutex that guards l),
// removes f and reports true, unless the list was taken first.
func (l *List) Add(mu sync.Locker, f func()) (stop func() bool) {
	p := &f
	l.fs = append(l.fs, p)
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i, x := range l.fs {
			if x == p {
				l.fs = slices.Delete(l.fs, i, i+1) // clears the slot left behind
				return true
			}
		}
		return false
	}
}

// Take empties the list and returns what it held, to [Taken.Run] once the
// mutex is released.
func (l *List) Take() Taken {
	t := Taken(l.fs)
	l.fs = nil
	return t
}

// Taken is the functions of an ended context.
type Taken []*func()

// Run starts each function on a goroutine of its own, as
// context.AfterFunc does.
func (t Taken) Run() {
	for _, f := range t {
		go (*f)()
	}
}
