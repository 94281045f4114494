package netron

import (
	"strings"
	"testing"
)

type posIC struct {
	Interceptor
	name string
	pos  int
}

func (p posIC) Position() int { return p.pos }

type plainIC struct {
	Interceptor
	name string
}

func TestOrderedInterceptors(t *testing.T) {
	t.Parallel()
	in := []Interceptor{plainIC{name: "a"}, posIC{name: "metrics", pos: -200}, posIC{name: "security", pos: -100}, plainIC{name: "b"}, posIC{name: "tracing", pos: -300}, posIC{name: "late", pos: 10}}
	var got []string
	for _, ic := range ordered(in) {
		switch v := ic.(type) {
		case posIC:
			got = append(got, v.name)
		case plainIC:
			got = append(got, v.name)
		}
	}
	want := "tracing metrics security a b late"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("order %q, want %q", s, want)
	}
}
