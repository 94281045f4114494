// Package linked holds the fx modules that packages add to every Titan app
// of the program simply by being linked into it.
//
// A package whose feature is optional — the NATS door, later the
// discovery backends, security, exporters — registers its module from an
// init function, as database/sql drivers do:
//
//	func init() { linked.Register("titan.nats", Module) }
//
// so that an app gets the feature (its configuration section, its
// lifecycle hooks) by importing the package, and an app that does not
// import it does not link its dependencies. titan.New adds [Modules] to
// every app it builds.
package linked

import (
	"fmt"
	"slices"
	"sync"

	"go.uber.org/fx"
)

var registry struct {
	sync.Mutex
	names   []string
	modules []fx.Option
}

// Register adds m, named name (the fx module's own name, such as
// "titan.nats"), to every app titan.New builds from now on. It is meant for
// init functions. It panics when m is nil or name is empty or already
// registered: two packages claiming one name is a build mistake.
func Register(name string, m fx.Option) {
	if name == "" || m == nil {
		panic("linked.Register: want a name and a module")
	}
	registry.Lock()
	defer registry.Unlock()
	if slices.Contains(registry.names, name) {
		panic(fmt.Sprintf("linked.Register: %q is registered twice", name))
	}
	registry.names = append(registry.names, name)
	registry.modules = append(registry.modules, m)
}

// Modules returns the registered modules, in the order they were
// registered (the order of package initialisation, which Go defines).
func Modules() []fx.Option {
	registry.Lock()
	defer registry.Unlock()
	return slices.Clone(registry.modules)
}

// Names returns the names of the registered modules, in the same order.
func Names() []string {
	registry.Lock()
	defer registry.Unlock()
	return slices.Clone(registry.names)
}

// Require returns nil when the module named name is registered, and
// otherwise an error naming the import that links it. A policy that a
// module enforces (titan.Auth, titan.RateLimit, ...) is recorded on the
// service by the root package whether or not the module is linked; the
// policy's check calls Require, so that a policy nobody would enforce
// fails start-up instead of being ignored:
//
//	netron.WithExtension("Auth", "security.auth", roles, func(any) error {
//		return linked.Require("titan.security", "github.com/titanframework/titan/modules/security")
//	})
func Require(name, importPath string) error {
	if Has(name) {
		return nil
	}
	return fmt.Errorf("it is enforced by the %s module, which this program does not link: add import _ %q", name, importPath)
}

// Has reports whether a module named name is registered.
func Has(name string) bool {
	registry.Lock()
	defer registry.Unlock()
	return slices.Contains(registry.names, name)
}
