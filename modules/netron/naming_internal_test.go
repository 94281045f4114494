package netron

import (
	"fmt"
	"strings"
	"testing"
)

// The target cache answers as ParseTarget does and keeps no more than
// maxCachedTargets targets, however many a program calls.
func TestTargetCacheIsBounded(t *testing.T) {
	t.Parallel()
	var c targetCache
	for i := range maxCachedTargets + 100 {
		s := fmt.Sprintf("svc%d@^1.%d", i, i)
		got, err := c.parse(s)
		want, werr := ParseTarget(s)
		if err != nil || werr != nil || got.String() != want.String() {
			t.Fatalf("parse(%q) = %v, %v; ParseTarget: %v, %v", s, got, err, want, werr)
		}
	}
	kept := 0
	c.m.Range(func(any, any) bool { kept++; return true })
	if kept != maxCachedTargets || int(c.n.Load()) != maxCachedTargets {
		t.Fatalf("kept %d targets (count %d), want %d", kept, c.n.Load(), maxCachedTargets)
	}
	if _, err := c.parse("bad name@1"); err == nil {
		t.Fatal("a bad target parsed")
	}
}

// The wire rule for method names, on strings and bytes alike.
func TestValidMethodName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"add": true, "_x": true, "$get": true, "Add2": true, "a_b$c9": true,
		"": false, "2add": false, "add-x": false, "a.b": false, "añadir": false, "a b": false,
		strings.Repeat("a", 255): true, strings.Repeat("a", 256): false,
	} {
		if validMethodName(name) != want || validMethodName([]byte(name)) != want {
			t.Errorf("validMethodName(%.20q) = %v, want %v", name, !want, want)
		}
	}
}
