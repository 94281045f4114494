package contract

import (
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// pattern is a compiled "pattern" keyword. Most patterns in contracts are
// anchored runs of character classes (a zip code, ^[0-9]{5}$; an ISO
// code, ^[A-Z]{2}$; a slug, ^[a-z0-9-]+$): those are matched rune by rune
// against the classes, with no regexp machine (13 ns against the 60 of
// regexp's one-pass matcher on ^[0-9]{5}$, BenchmarkPattern); every other
// pattern is matched by package regexp. TestPatternAgrees and FuzzPattern
// hold the two to the same answers.
type pattern struct {
	re  *regexp.Regexp
	run []patElem // nil when re matches
}

// patElem is one element of an anchored run: a rune in ranges (pairs of
// low and high runes), min to max times (max < 0: no bound).
type patElem struct {
	ranges   []rune
	min, max int
}

func compilePattern(s string) (*pattern, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, err
	}
	return &pattern{re: re, run: anchoredRun(s)}, nil
}

// MatchString reports whether s matches the pattern.
func (p *pattern) MatchString(s string) bool {
	if p.run == nil {
		return p.re.MatchString(s)
	}
	i := 0
	for _, e := range p.run {
		n := 0
		for (e.max < 0 || n < e.max) && i < len(s) {
			r, w := rune(s[i]), 1
			if r >= utf8.RuneSelf {
				r, w = utf8.DecodeRuneInString(s[i:])
			}
			if !inRanges(e.ranges, r) {
				break
			}
			i += w
			n++
		}
		if n < e.min {
			return false
		}
	}
	return i == len(s)
}

func inRanges(ranges []rune, r rune) bool {
	for j := 0; j+1 < len(ranges); j += 2 {
		if r < ranges[j] {
			return false // sorted
		}
		if r <= ranges[j+1] {
			return true
		}
	}
	return false
}

// anchoredRun returns the elements of s when it is ^e1…en$ and matching
// each element greedily, in turn, decides the match: every element but the
// last repeats a fixed number of times (a greedy element of variable count
// followed by another could have to give runes back). Otherwise nil.
func anchoredRun(s string) []patElem {
	re, err := syntax.Parse(s, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) < 3 {
		return nil
	}
	subs := re.Sub
	if subs[0].Op != syntax.OpBeginText || subs[len(subs)-1].Op != syntax.OpEndText {
		return nil
	}
	var run []patElem
	for _, sub := range subs[1 : len(subs)-1] {
		if len(run) > 0 && run[len(run)-1].min != run[len(run)-1].max {
			return nil // a variable element that is not the last
		}
		var (
			one      *syntax.Regexp
			min, max int
		)
		switch sub.Op {
		case syntax.OpRepeat:
			one, min, max = sub.Sub[0], sub.Min, sub.Max
		case syntax.OpStar:
			one, min, max = sub.Sub[0], 0, -1
		case syntax.OpPlus:
			one, min, max = sub.Sub[0], 1, -1
		case syntax.OpQuest:
			one, min, max = sub.Sub[0], 0, 1
		case syntax.OpLiteral:
			if sub.Flags&syntax.FoldCase != 0 {
				return nil
			}
			for _, r := range sub.Rune {
				run = append(run, patElem{ranges: []rune{r, r}, min: 1, max: 1})
			}
			continue
		default:
			one, min, max = sub, 1, 1
		}
		var ranges []rune
		switch {
		case one.Op == syntax.OpCharClass:
			ranges = one.Rune
		case one.Op == syntax.OpLiteral && len(one.Rune) == 1 && one.Flags&syntax.FoldCase == 0:
			ranges = []rune{one.Rune[0], one.Rune[0]}
		case one.Op == syntax.OpAnyCharNotNL:
			ranges = []rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune}
		case one.Op == syntax.OpAnyChar:
			ranges = []rune{0, utf8.MaxRune}
		default:
			return nil
		}
		run = append(run, patElem{ranges: ranges, min: min, max: max})
	}
	return run
}
