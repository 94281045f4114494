package titan_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan"
)

// TestNilArgumentsAreErrors: a nil constructor, function, value,
// decorator or interceptor given to an option fails building the app
// with an error naming the option and the argument's position, as a nil
// option does, instead of a panic inside fx or Netron.
func TestNilArgumentsAreErrors(t *testing.T) {
	t.Parallel()
	var nilFunc func() *Store
	tests := []struct {
		name string
		opt  titan.Option
		want string
	}{
		{"Provide", titan.Provide(NewStore, nil), "Provide(github.com/titanframework/titan_test.NewStore, <nil>): constructor 2 is nil"},
		{"Provide typed nil", titan.Provide(nilFunc), "constructor 1 is nil"},
		{"Provide in a Module", titan.Module("m", titan.Provide(nil)), "Provide(<nil>): constructor 1 is nil"},
		{"Invoke", titan.Invoke(nil), "Invoke(<nil>): function 1 is nil"},
		{"Supply", titan.Supply(&Store{}, nil), "Supply(*titan_test.Store, <nil>): value 2 is nil"},
		{"Decorate", titan.Decorate(nil), "Decorate(<nil>): decorator 1 is nil"},
		{"Interceptors", titan.Interceptors(nil), "Interceptors(1): interceptor 1 is nil"},
		{"Service typed nil", titan.Service("calculator", "1.0.0", (func() *Calculator)(nil)), `Service("calculator", "1.0.0", func() *titan_test.Calculator): nil constructor`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				err = titan.New(titan.WithConfig(quiet()), tt.opt).Err()
			}()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want one containing %q", err, tt.want)
			}
		})
	}
}

// TestNilAuthRequirement: a nil requirement given to titan.Auth fails
// start-up naming it, instead of a panic where Auth is called.
func TestNilAuthRequirement(t *testing.T) {
	t.Parallel()
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panic: %v", r)
			}
		}()
		err = titan.New(titan.WithConfig(quiet()),
			titan.Service("calculator", "1.0.0", NewCalculator, titan.Auth(titan.Roles("admin"), nil))).Start(t.Context())
	}()
	if err == nil || !strings.Contains(err.Error(), "requirement 2 is nil") {
		t.Fatalf("error %v; want one saying requirement 2 is nil", err)
	}
}
