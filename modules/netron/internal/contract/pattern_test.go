package contract

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

// patterns are the differential tests' patterns: anchored runs the matcher
// takes, and patterns it must leave to package regexp.
var patterns = []struct {
	src string
	run bool // matched as an anchored run
}{
	{`^[0-9]{5}$`, true},
	{`^[A-Z]{2}[0-9]{4}$`, true},
	{`^[a-z0-9-]+$`, true},
	{`^[a-z]{2,8}$`, true},
	{`^ab?$`, true},
	{`^x[0-9]*$`, true},
	{`^[^\s]{1,3}$`, true},
	{`^\d{3}-\d{4}$`, true},
	{`^[α-ω]{2}é$`, true},
	{`^.{3}$`, true},
	{`^(?s).{2}x$`, true},
	{`^[a-c]{2,}$`, true},
	{`^abc$`, true},
	{`^[a-z]+?$`, true},
	{`^[a-z]*[a-c]$`, false}, // a variable element before another
	{`^0*0$`, false},         // … before a literal (found by FuzzPattern)
	{`^(?i)ab$`, false},
	{`[0-9]{5}`, false}, // unanchored
	{`^[0-9]{5}`, false},
	{`^(ab)+$`, false},
	{`^a|b$`, false},
	{`^$`, false},
}

// TestPatternAgrees holds the anchored-run matcher to package regexp on
// strings built from each pattern's own runes and a few others.
func TestPatternAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("0123456789abcxyzABCZ-_ .\n\tαβωéé\uFFFD")
	for _, c := range patterns {
		p, err := compilePattern(c.src)
		if err != nil {
			t.Fatal(err)
		}
		if (p.run != nil) != c.run {
			t.Errorf("%s: matched as an anchored run: %v, want %v", c.src, p.run != nil, c.run)
		}
		re := regexp.MustCompile(c.src)
		for range 5000 {
			var b strings.Builder
			for range rng.IntN(12) {
				b.WriteRune(alphabet[rng.IntN(len(alphabet))])
			}
			s := b.String()
			if rng.IntN(20) == 0 {
				s += "\xff" // invalid UTF-8 reads as U+FFFD, as regexp reads it
			}
			if got, want := p.MatchString(s), re.MatchString(s); got != want {
				t.Fatalf("%s on %q: %v, regexp says %v", c.src, s, got, want)
			}
		}
	}
}

// FuzzPattern: for any pattern the matcher takes and any string, it answers
// as package regexp does.
func FuzzPattern(f *testing.F) {
	for _, c := range patterns {
		f.Add(c.src, "12345")
		f.Add(c.src, "ab-9")
	}
	f.Fuzz(func(t *testing.T, src, s string) {
		if len(src) > 64 || len(s) > 256 || bigRepeat(src) {
			return // regexp's compile of \pL{1000}{1000} takes seconds: no news, and it stalls the fuzzer
		}
		p, err := compilePattern(src)
		if err != nil {
			return
		}
		if got, want := p.MatchString(s), p.re.MatchString(s); got != want {
			t.Fatalf("%q on %q: %v, regexp says %v", src, s, got, want)
		}
	})
}

func BenchmarkPattern(b *testing.B) {
	p, err := compilePattern(`^[0-9]{5}$`)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("run", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !p.MatchString("10001") {
				b.Fatal("no match")
			}
		}
	})
	b.Run("regexp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !p.re.MatchString("10001") {
				b.Fatal("no match")
			}
		}
	})
}

func BenchmarkEmail(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if !email("ada.lovelace7@analytical-engines.example") {
			b.Fatal("refused")
		}
	}
}

// bigRepeat reports whether src repeats something more than 20 times.
func bigRepeat(src string) bool {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return false
	}
	var walk func(*syntax.Regexp) bool
	walk = func(re *syntax.Regexp) bool {
		if re.Op == syntax.OpRepeat && (re.Min > 20 || re.Max > 20) {
			return true
		}
		for _, sub := range re.Sub {
			if walk(sub) {
				return true
			}
		}
		return false
	}
	return walk(re)
}
