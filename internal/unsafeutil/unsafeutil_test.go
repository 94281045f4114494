package unsafeutil

import "testing"

func TestString(t *testing.T) {
	b := []byte("hello, world")
	if s := String(b[7:]); s != "world" {
		t.Fatalf("String = %q", s)
	}
	if s := String(b[:0]); s != "" {
		t.Fatalf("String of an empty slice = %q", s)
	}
	if s := String(nil); s != "" {
		t.Fatalf("String(nil) = %q", s)
	}
	if n := testing.AllocsPerRun(100, func() { _ = String(b) }); n != 0 {
		t.Fatalf("String allocates %v times", n)
	}
}
