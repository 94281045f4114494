package titan

import (
	"errors"
	"reflect"
	"regexp"
	"strings"

	"go.uber.org/dig"
	"go.uber.org/fx"
)

var (
	quotedPkg = regexp.MustCompile(`"(?:[^"]*/)?([^"/]+)"\.`)
	filePos   = regexp.MustCompile(`\((?:[^()]*/)?([^()/]+\.go:\d+)\)`)
)

// The phrases of dig's error chain that startupError reads.
const (
	missingDeps   = "missing dependencies for function "
	ctorFailed    = "received non-nil error from function "
	failedToBuild = "failed to build "
	missingType   = "missing type: "
	missingTypes  = "missing types: "
)

// titanPkg is the import path of Titan's own packages, whose errors say
// what failed without the name of the function that returned them.
const titanPkg = `"github.com/titanframework/titan`

// annotatedFn is how dig names a function wrapped by fx.Annotate (a
// reflect.MakeFunc), whose own name is lost: a name that says nothing, left
// out of the message.
const annotatedFn = `"reflect".makeFuncStub`

// buildError is an error of building the app: a short message first, the
// error fx returned kept for errors.Is and errors.As.
type buildError struct {
	msg string
	err error
}

func (e *buildError) Error() string { return e.msg }
func (e *buildError) Unwrap() error { return e.err }

// startupError turns the error fx returned while building the app into one
// line saying what failed, in the user's terms:
//
//   - a missing type: "service users@1.0.0: main.NewSvc (main.go:15) needs
//     *main.DB, which nothing provides";
//   - a constructor's error: "main.NewDB (main.go:9): connection refused",
//     or the error alone when a Titan module returned it (a configuration
//     error names its key and source itself) or the function was wrapped
//     by fx.Annotate (which hides its name);
//   - anything else: dig's chain without fx's stack traces, with shorter
//     function names ("app.NewDB", not "github.com/x/app".NewDB) and
//     positions (file and line).
//
// fx's full chain is in the error fx logged at debug level (module "fx").
func startupError(err error, n *notes) error {
	first := err
	if m, ok := err.(interface{ Unwrap() []error }); ok && len(m.Unwrap()) > 0 {
		// fx joins the first failure with those it caused (fx's logger,
		// say, is not built once a Provide failed): the first says what
		// is wrong.
		first = m.Unwrap()[0]
	}
	links := chain(first)
	root := dig.RootCause(first)
	last := ""
	if len(links) > 0 {
		last = links[len(links)-1]
	}
	// Only dig's text is shortened: the error a constructor returned is
	// its author's, quoted paths and names included.
	var msg string
	switch {
	case strings.HasPrefix(last, missingType) || strings.HasPrefix(last, missingTypes):
		msg = shorten(missingMessage(links, n))
	case strings.HasPrefix(last, ctorFailed) && !isDigError(root):
		fn := strings.TrimPrefix(last, ctorFailed)
		msg = root.Error()
		if !strings.HasPrefix(fn, titanPkg+`"`) && !strings.HasPrefix(fn, titanPkg+`/`) && !strings.HasPrefix(fn, annotatedFn) {
			msg = shorten(fn) + ": " + msg
		}
		msg = shorten(serviceContext(links, fn, n)) + msg
	case len(links) > 0: // dig's chain without fx's wrapping (a stack trace)
		msg = shorten(strings.Join(links, ": "))
		if !isDigError(root) {
			msg += ": " + root.Error()
		}
	default: // not dig's: an invoked function's own error
		msg = first.Error()
	}
	return &buildError{msg: "titan: start-up failed: " + msg, err: err}
}

// shorten writes the functions and types dig names with their package
// name alone ("app.NewDB", not "github.com/x/app".NewDB) and their
// positions with the file's name alone.
func shorten(s string) string {
	s = quotedPkg.ReplaceAllString(s, "$1.")
	return filePos.ReplaceAllString(s, "($1)")
}

// chain returns the message of each dig error of err's chain, outermost
// first, without the messages of the errors it wraps. It stops at the first
// error that is not dig's below them: a constructor's own error.
func chain(err error) []string {
	var out []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, ok := e.(dig.Error); !ok {
			if len(out) > 0 {
				break
			}
			continue // fx's wrapping around dig's chain
		}
		msg := e.Error()
		if next := errors.Unwrap(e); next != nil {
			msg = strings.TrimSuffix(msg, ": "+next.Error())
		}
		out = append(out, msg)
	}
	return out
}

func isDigError(err error) bool {
	var de dig.Error
	return errors.As(err, &de)
}

// missingMessage says which function needs which types that nothing
// provides. links ends with dig's "missing type(s): ..." after the
// "missing dependencies for function F" of the function that needs them.
func missingMessage(links []string, n *notes) string {
	last := links[len(links)-1]
	list := strings.TrimPrefix(strings.TrimPrefix(last, missingTypes), missingType)
	types := strings.Split(list, "; ")
	fn := "a function"
	if len(links) >= 2 && strings.HasPrefix(links[len(links)-2], missingDeps) {
		fn = strings.TrimPrefix(links[len(links)-2], missingDeps)
	}
	var hints []string
	for i, t := range types {
		name, hint, _ := strings.Cut(t, " (")
		types[i] = name
		switch other := "*" + name; {
		case hint != "": // dig's: "did you mean T?"
			hints = append(hints, name+": "+strings.TrimSuffix(hint, ")"))
		case n.provided[other]: // dig suggests only what its own scope provides
			hints = append(hints, name+": did you mean "+other+"?")
		case strings.HasPrefix(name, "*") && n.provided[name[1:]]:
			hints = append(hints, name+": did you mean "+name[1:]+"?")
		case n.taken[name] != nil && isClient(n.taken[name]):
			hints = append(hints, "to call a remote service with it, add titan.Remote["+name+"](target)")
		}
	}
	msg := serviceContext(links, fn, n) + fn + " needs " + joinAnd(types) + ", which nothing provides"
	if len(hints) > 0 {
		msg += " (" + strings.Join(hints, "; ") + ")"
	}
	return msg
}

// serviceContext returns "service name@version: " when the failure is in
// building a service declared with [Service] (its constructor, or something
// its constructor needs), else "".
func serviceContext(links []string, fn string, n *notes) string {
	if name, ok := n.services[funcKey(fn)]; ok {
		return "service " + name + ": "
	}
	for _, l := range links {
		if t, ok := strings.CutPrefix(l, failedToBuild); ok {
			if name, ok := n.services[t]; ok {
				return "service " + name + ": "
			}
		}
	}
	return ""
}

// funcKey turns dig's `"path/pkg".Name (file.go:12)` into the runtime name
// path/pkg.Name that funcName gives.
func funcKey(fn string) string {
	fn, _, _ = strings.Cut(fn, " (")
	if pkg, name, ok := strings.Cut(strings.TrimPrefix(fn, `"`), `".`); ok {
		return pkg + "." + name
	}
	return fn
}

func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// isClient reports whether t looks like a client for [Remote]: a struct
// whose fields are all funcs.
func isClient(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t.NumField() == 0 {
		return false
	}
	for f := range t.Fields() {
		if f.Type.Kind() != reflect.Func {
			return false
		}
	}
	return true
}

// notes is what the options say about the app's types, for start-up
// errors: dig names types and functions by strings only.
type notes struct {
	taken    map[string]reflect.Type // types that constructors take, by name
	provided map[string]bool         // types that constructors provide, by name
	services map[string]string       // service name@version by the runtime name of its constructor and by its type
}

// takes records the types that fns take, directly or as fields of an fx.In
// struct.
func (n *notes) takes(fns ...any) {
	for _, f := range fns {
		t := reflect.TypeOf(f)
		if t == nil || t.Kind() != reflect.Func {
			continue
		}
		for in := range t.Ins() {
			n.take(in)
			if isFxStruct(in) {
				for f := range in.Fields() {
					n.take(f.Type)
				}
			}
		}
	}
}

func (n *notes) take(t reflect.Type) {
	if n.taken == nil {
		n.taken = map[string]reflect.Type{}
	}
	n.taken[t.String()] = t
}

// provides records the types that constructors provide, directly or as
// fields of an fx.Out struct.
func (n *notes) provides(ctors ...any) {
	for _, f := range ctors {
		t := reflect.TypeOf(f)
		if t == nil || t.Kind() != reflect.Func {
			continue
		}
		for out := range t.Outs() {
			if !isFxStruct(out) {
				n.provide(out)
				continue
			}
			for f := range out.Fields() {
				n.provide(f.Type)
			}
		}
	}
}

func (n *notes) provide(t reflect.Type) {
	if n.provided == nil {
		n.provided = map[string]bool{}
	}
	n.provided[t.String()] = true
}

// service records that the service name@version is built by the function
// named ctor ("" for a ready value) and has type impl.
func (n *notes) service(name, ctor string, impl reflect.Type) {
	if n.services == nil {
		n.services = map[string]string{}
	}
	if ctor != "" {
		n.services[ctor] = name
	}
	n.services[impl.String()] = name
}

// merge takes in the notes of a module's options.
func (n *notes) merge(o *notes) {
	for _, t := range o.taken {
		n.take(t)
	}
	for t := range o.provided {
		if n.provided == nil {
			n.provided = map[string]bool{}
		}
		n.provided[t] = true
	}
	for k, v := range o.services {
		if n.services == nil {
			n.services = map[string]string{}
		}
		n.services[k] = v
	}
}

// isFxStruct reports whether t is a struct embedding fx.In or fx.Out.
func isFxStruct(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for f := range t.Fields() {
		if f.Anonymous && (f.Type == reflect.TypeFor[fx.In]() || f.Type == reflect.TypeFor[fx.Out]()) {
			return true
		}
	}
	return false
}
