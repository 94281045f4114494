package titan

import (
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
)

// Defaults of the app's timeouts.
const (
	DefaultStartTimeout = 15 * time.Second
	DefaultStopTimeout  = 15 * time.Second
)

// Option configures an [App]. Options are applied in order.
type Option interface {
	apply(*settings)
	// String describes the option for diagnostics.
	String() string
}

// settings is what the options fill in.
type settings struct {
	fx           []fx.Option
	startTimeout time.Duration
	stopTimeout  time.Duration
	config       config.Options
	files        []string          // WithConfigFile, read after WithConfig's files
	envPrefix    string            // WithEnvPrefix, in place of WithConfig's
	defaults     map[string]any    // WithConfigDefault, kept apart from WithConfig's
	aliases      map[string]string // WithConfigAlias, likewise
	logger       []logger.Option
	interceptors []netron.Interceptor    // in the order of the options
	appLevel     []string                // app-level options used; refused inside Module
	serviceTypes map[reflect.Type]string // the Service option of each service type
	clock        bool                    // WithClock was given
	admin        string                  // the Admin option given
	errs         []error

	notes notes // for start-up errors
}

type option struct {
	desc string
	fn   func(*settings)
}

func (o option) apply(s *settings) { o.fn(s) }
func (o option) String() string    { return o.desc }

// funcName describes a constructor for diagnostics.
func funcName(f any) string {
	v := reflect.ValueOf(f)
	if v.Kind() == reflect.Func {
		if fn := runtime.FuncForPC(v.Pointer()); fn != nil {
			return fn.Name()
		}
	}
	return fmt.Sprintf("%T", f)
}

// quoted lists strings as Go writes them in a call: "a", "b".
func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func describe(name string, fns []any) string {
	names := make([]string, len(fns))
	for i, f := range fns {
		names[i] = funcName(f)
	}
	return fmt.Sprintf("%s(%s)", name, strings.Join(names, ", "))
}

// Provide registers constructors, as fx.Provide does: each is called at most
// once, when something needs a type it returns.
func Provide(constructors ...any) Option {
	desc := describe("Provide", constructors)
	return option{desc, func(s *settings) {
		if s.refuseNil(desc, "constructor", constructors, isNilFunc) {
			return
		}
		s.notes.takes(constructors...)
		s.notes.provides(constructors...)
		s.fx = append(s.fx, fx.Provide(constructors...))
	}}
}

// Invoke registers functions that run when the app is built, in order, with
// their arguments injected; use them to force constructors to run and to
// register lifecycle hooks.
func Invoke(funcs ...any) Option {
	desc := describe("Invoke", funcs)
	return option{desc, func(s *settings) {
		if s.refuseNil(desc, "function", funcs, isNilFunc) {
			return
		}
		s.notes.takes(funcs...)
		s.fx = append(s.fx, fx.Invoke(funcs...))
	}}
}

// Supply provides ready-made values by their types.
func Supply(values ...any) Option {
	types := make([]string, len(values))
	for i, v := range values {
		types[i] = fmt.Sprintf("%T", v)
	}
	desc := "Supply(" + strings.Join(types, ", ") + ")"
	return option{desc, func(s *settings) {
		if s.refuseNil(desc, "value", values, func(v any) bool { return v == nil }) {
			return
		}
		for _, v := range values {
			if t := reflect.TypeOf(v); t != nil {
				s.notes.provide(t)
			}
		}
		s.fx = append(s.fx, fx.Supply(values...))
	}}
}

// Decorate registers decorators that replace a type's value for the
// enclosing scope (the app, or the [Module] it is used in).
func Decorate(decorators ...any) Option {
	desc := describe("Decorate", decorators)
	return option{desc, func(s *settings) {
		if s.refuseNil(desc, "decorator", decorators, isNilFunc) {
			return
		}
		s.notes.takes(decorators...)
		s.fx = append(s.fx, fx.Decorate(decorators...))
	}}
}

// refuseNil records an error for each argument of the option desc that
// isNil reports, naming it by what it is and its position, and reports
// whether there was one: fx panics on a nil constructor, value or
// decorator, and calls a typed nil func when its type is needed.
func (s *settings) refuseNil(desc, what string, args []any, isNil func(any) bool) bool {
	found := false
	for i, a := range args {
		if isNil(a) {
			s.errs = append(s.errs, fmt.Errorf("%s: %s %d is nil", desc, what, i+1))
			found = true
		}
	}
	return found
}

// toAny returns the elements of s as values of type any.
func toAny[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// isNilFunc reports whether f is nil or a nil func.
func isNilFunc(f any) bool {
	if f == nil {
		return true
	}
	v := reflect.ValueOf(f)
	return v.Kind() == reflect.Func && v.IsNil()
}

// Module groups options under a name, as fx.Module does. Constructors inside
// it receive a *slog.Logger that carries module=name and follows
// logger.levels.<name>. App-level options (timeouts, configuration sources,
// WithLogger) are refused inside a Module.
func Module(name string, opts ...Option) Option {
	return option{fmt.Sprintf("Module(%q, %d options)", name, len(opts)), func(s *settings) {
		var inner settings
		for i, o := range opts {
			if o == nil {
				inner.errs = append(inner.errs, fmt.Errorf("Module(%q): option %d is nil", name, i+1))
				continue
			}
			o.apply(&inner)
		}
		for _, a := range inner.appLevel {
			s.errs = append(s.errs, fmt.Errorf("Module(%q): %s is an app-level option and cannot be used inside a module", name, a))
		}
		s.errs = append(s.errs, inner.errs...)
		for t, desc := range inner.serviceTypes {
			s.serviceType(t, desc)
		}
		s.notes.merge(&inner.notes)
		s.fx = append(s.fx, fx.Module(name, append([]fx.Option{logger.Decorate(name)}, inner.fx...)...))
	}}
}

// serviceType records that the Service option desc declares a service of
// type t, or reports the Service that already did: a type is provided
// once, so two services cannot share it.
func (s *settings) serviceType(t reflect.Type, desc string) bool {
	if prev, dup := s.serviceTypes[t]; dup {
		s.errs = append(s.errs, fmt.Errorf("%s: %s is already the type of %s; give each service a type of its own", desc, t, prev))
		return false
	}
	if s.serviceTypes == nil {
		s.serviceTypes = map[reflect.Type]string{}
	}
	s.serviceTypes[t] = desc
	return true
}

// ConfigSection registers the configuration section name, of type T, with
// its defaults: the section is validated at load, shown by --print-config,
// and read with config.Section[T](cfg, name).
func ConfigSection[T any](name string, defaults T) Option {
	return option{fmt.Sprintf("ConfigSection(%q, %T)", name, defaults), func(s *settings) {
		s.fx = append(s.fx, config.AsSection(name, defaults))
	}}
}

func appLevel(desc string, fn func(*settings)) Option {
	return option{desc, func(s *settings) {
		s.appLevel = append(s.appLevel, desc)
		fn(s)
	}}
}

// StartTimeout bounds how long start-up may take (default 15s).
func StartTimeout(d time.Duration) Option {
	return appLevel(fmt.Sprintf("StartTimeout(%v)", d), func(s *settings) {
		if d <= 0 {
			s.errs = append(s.errs, fmt.Errorf("StartTimeout(%v): must be positive", d))
			return
		}
		s.startTimeout = d
	})
}

// StopTimeout bounds how long a graceful stop may take (default 15s); when
// it runs out, Run exits non-zero.
func StopTimeout(d time.Duration) Option {
	return appLevel(fmt.Sprintf("StopTimeout(%v)", d), func(s *settings) {
		if d <= 0 {
			s.errs = append(s.errs, fmt.Errorf("StopTimeout(%v): must be positive", d))
			return
		}
		s.stopTimeout = d
	})
}

// WithConfigFile reads configuration from path (YAML, JSON or TOML by
// extension) instead of looking for titan.yaml. Repeat it to layer files;
// --config flags given to Run come after these, and a [WithConfig] given
// after it does not drop it.
func WithConfigFile(path string) Option {
	return appLevel(fmt.Sprintf("WithConfigFile(%q)", path), func(s *settings) {
		s.files = append(s.files, path)
	})
}

// WithEnvPrefix changes the prefix of configuration environment variables
// (default "TITAN_").
func WithEnvPrefix(prefix string) Option {
	return appLevel(fmt.Sprintf("WithEnvPrefix(%q)", prefix), func(s *settings) {
		if prefix == "" {
			s.errs = append(s.errs, fmt.Errorf("WithEnvPrefix: empty prefix"))
			return
		}
		s.envPrefix = prefix
	})
}

// WithConfig sets every configuration source at once (files, environment,
// --set values), for tests and embedding; the files of WithConfigFile
// options (read after o.Files) and the prefix of WithEnvPrefix still
// apply, whether they come before or after it. A later WithConfig
// replaces it.
func WithConfig(o config.Options) Option {
	return appLevel("WithConfig(...)", func(s *settings) { s.config = o })
}

// WithConfigDefault sets the app's default for a key of a module's
// configuration section, such as the addresses it listens on:
//
//	titan.WithConfigDefault("netron.listen", []string{"tcp://127.0.0.1:7070"})
//
// Files, environment variables and --set flags still replace it, and
// --print-config shows it. A string value is converted as a --set value is.
func WithConfigDefault(key string, value any) Option {
	return configDefault(fmt.Sprintf("WithConfigDefault(%q, %v)", key, value), key, value)
}

// configDefault is WithConfigDefault described as desc (an option that is
// a default of one key, such as DevUI).
func configDefault(desc, key string, value any) Option {
	return appLevel(desc, func(s *settings) {
		if s.defaults == nil {
			s.defaults = map[string]any{}
		}
		s.defaults[key] = value
	})
}

// WithConfigAlias gives the configuration key a second name, alias, as when
// a key is renamed: a value set at alias by a file, an environment variable
// or a --set flag is the key's, and replaces what the same source set at
// the key.
func WithConfigAlias(alias, key string) Option {
	return appLevel(fmt.Sprintf("WithConfigAlias(%q, %q)", alias, key), func(s *settings) {
		if alias == "" || key == "" || alias == key {
			s.errs = append(s.errs, fmt.Errorf("WithConfigAlias(%q, %q): want two different keys", alias, key))
			return
		}
		if s.aliases == nil {
			s.aliases = map[string]string{}
		}
		s.aliases[alias] = key
	})
}

// WithLogger passes options to the app's logger, such as an extra sink
// (logger.WithHandler) or a test writer (logger.WithWriter). A nil option
// fails building the app, naming its position.
func WithLogger(opts ...logger.Option) Option {
	descs := make([]string, len(opts))
	var nils []int // the positions of nil options, from 1
	for i, o := range opts {
		if o == nil {
			descs[i] = "nil"
			nils = append(nils, i+1)
			continue
		}
		descs[i] = o.String()
	}
	desc := "WithLogger(" + strings.Join(descs, ", ") + ")"
	return appLevel(desc, func(s *settings) {
		for _, i := range nils {
			s.errs = append(s.errs, fmt.Errorf("%s: option %d is nil", desc, i))
		}
		for _, o := range opts {
			if o != nil {
				s.logger = append(s.logger, o)
			}
		}
	})
}

// Strict makes start-up fail when a service has exported methods that look
// meant to be public but are not exposed (no context.Context first while
// returning an error, other results, variadic arguments), instead of
// logging a warning for each service (see netron.Netron.Register for the
// rule; String() string, Close() error and the methods of other
// well-known standard interfaces are never reported). It is an app-level
// option: the shape of methods is a rule of the codebase, not of one
// service, so it applies to every service of the app, and a Module may not
// use it. Off by default.
func Strict() Option {
	return appLevel("Strict()", func(s *settings) {
		s.fx = append(s.fx, fx.Provide(fx.Annotate(netron.WithStrict, fx.ResultTags(`group:"`+netron.OptionGroup+`"`))))
	})
}
