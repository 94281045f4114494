package ratelimit

import "math"

// window is one key's state in a sliding-window counter (see the package
// documentation): the start of its current fixed window, the length of
// its windows, and the units taken in the current window (cur) and in the
// one before it (prev). Times are Unix milliseconds.
//
// redis/window.lua is the same arithmetic for Redis; change both together
// (TestScriptAgreesWithLocal, in package redis, holds them alike).
type window struct {
	start, per int64
	cur, prev  int64
}

// take decides one call at now for a limit of n per w.per and, when it is
// allowed, counts it. It returns whether the call is allowed, the units
// left after it, and, when refused, the milliseconds until one unit frees.
// A w whose per is 0 is a key not seen before.
//
// The comparisons are float64, as in Lua; each operand and product is a
// whole number, exact while n*per stays below 2^53. The explicit float64
// conversions keep the compiler from fusing a multiply and an add, which
// Lua never does.
func (w *window) take(now int64, n int, per int64) (allowed bool, remaining, wait int64) {
	if w.per != per {
		*w = window{start: now, per: per}
	}
	if now < w.start {
		now = w.start // a caller whose clock reading lost a race
	}
	if k := (now - w.start) / per; k == 1 {
		w.prev, w.cur, w.start = w.cur, 0, w.start+per
	} else if k >= 2 {
		w.prev, w.cur, w.start = 0, 0, w.start+k*per
	}

	nf, pf := float64(n), float64(per)
	prev, cur := float64(w.prev), float64(w.cur)
	e := float64(now - w.start)
	left := float64((nf-cur-1)*pf) - float64(prev*(pf-e)) // (n - estimate - 1) * per
	if left >= 0 {
		w.cur++
		return true, int64(math.Floor(left / pf)), 0
	}
	if cur+1 <= nf {
		// The previous window's weight falls until, at elapsed = need,
		// prev*(per-need) <= (n-cur-1)*per.
		need := pf - math.Floor(float64((nf-cur-1)*pf)/prev)
		return false, 0, int64(need - e)
	}
	// Nothing frees in this window; in the next one cur is the previous
	// count and frees a unit once cur*(per-need) <= (n-1)*per.
	need := pf - math.Floor(float64((nf-1)*pf)/cur)
	return false, 0, int64(pf - e + need)
}

// over reports whether both of w's windows ended before now, so that w
// counts nothing and forgetting it changes no decision.
func (w *window) over(now int64) bool {
	return now-w.start >= 2*w.per
}
