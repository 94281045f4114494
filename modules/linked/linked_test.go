package linked

import (
	"slices"
	"testing"

	"go.uber.org/fx"
)

func TestRegister(t *testing.T) {
	before := len(Names())
	Register("test.a", fx.Options())
	Register("test.b", fx.Options())
	if got := Names()[before:]; !slices.Equal(got, []string{"test.a", "test.b"}) {
		t.Fatalf("Names() = %v, want test.a then test.b", got)
	}
	if len(Modules()) != len(Names()) {
		t.Fatalf("%d modules for %d names", len(Modules()), len(Names()))
	}
	if !Has("test.a") || Has("test.c") {
		t.Fatalf("Has: test.a %v, test.c %v", Has("test.a"), Has("test.c"))
	}
	for _, tc := range []struct {
		name string
		m    fx.Option
		want string
	}{
		{"test.a", fx.Options(), `linked.Register: "test.a" is registered twice`},
		{"", fx.Options(), "linked.Register: want a name and a module"},
		{"test.nil", nil, "linked.Register: want a name and a module"},
	} {
		func() {
			defer func() {
				if r := recover(); r != tc.want {
					t.Errorf("Register(%q): panic %v, want %q", tc.name, r, tc.want)
				}
			}()
			Register(tc.name, tc.m)
		}()
	}
}

// A policy whose module is not linked fails with the import to add.
func TestRequire(t *testing.T) {
	if err := Require("test.absent", "example.com/absent"); err == nil || err.Error() != `it is enforced by the test.absent module, which this program does not link: add import _ "example.com/absent"` {
		t.Fatalf("Require of an absent module: %v", err)
	}
	Register("test.present", fx.Options())
	if err := Require("test.present", "example.com/present"); err != nil {
		t.Fatalf("Require of a registered module: %v", err)
	}
}
