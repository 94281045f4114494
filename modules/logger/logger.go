package logger

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	slogmulti "github.com/samber/slog-multi"
)

// ErrClosed is returned by [Logger.Apply] after [Logger.Close].
var ErrClosed = errors.New("logger: closed")

// Logger owns the sinks and the level table of an application, and hands
// out one [*slog.Logger] per module. It is safe for concurrent use.
type Logger struct {
	opts  options
	state atomic.Pointer[state] // never nil after New

	mu      sync.Mutex // serialises For, Apply and Close; guards the fields below
	modules map[string]*moduleEntry
	files   map[string]*os.File // open file sinks by absolute path
	closed  bool
	root    *slog.Logger
}

// state is one applied configuration: the record pipeline and the plan it
// was built from. It is replaced as a whole by Apply.
type state struct {
	plan    plan
	handler slog.Handler // trace ids, redaction, then fan-out to the sinks

	// writing counts the records being written through handler (see
	// [Logger.acquire]). Once Apply has replaced the state (retired), it
	// is drained when no record is being written through it or an older
	// state; then the files the newer states no longer use (unused) are
	// closed. No record waits for another, and Apply waits for none.
	writing atomic.Int64
	retired atomic.Bool
	drained atomic.Bool
	unused  []*os.File            // set before retired
	prev    atomic.Pointer[state] // the state this one replaced, until it is drained
	next    atomic.Pointer[state] // the state that replaced this one
}

// acquire returns the current state, which keeps the files it writes to
// open until [state.release].
func (l *Logger) acquire() *state {
	for {
		st := l.state.Load()
		st.writing.Add(1)
		if l.state.Load() == st {
			return st
		}
		st.release() // replaced meanwhile: take the new one
	}
}

// release ends what [Logger.acquire] began.
func (st *state) release() {
	if st.writing.Add(-1) == 0 && st.retired.Load() {
		st.drain()
	}
}

// retire marks st as replaced; unused are the files it writes to that the
// state replacing it does not.
func (st *state) retire(unused []*os.File) {
	st.unused = unused
	st.retired.Store(true)
	st.drain()
}

// drain closes the unused files of st, then of the states that replaced
// it, each once neither it nor an older state has a record being written:
// a record still writing through an older state may use a file that was
// kept for a while and is unused only now.
func (st *state) drain() {
	for ; st != nil; st = st.next.Load() {
		if !st.retired.Load() || st.writing.Load() != 0 {
			return
		}
		if p := st.prev.Load(); p != nil && !p.drained.Load() {
			return
		}
		if !st.drained.CompareAndSwap(false, true) {
			return // another goroutine drains it and those after it
		}
		for _, f := range st.unused {
			_ = f.Close() // a newer configuration is in force; nothing to undo
		}
		if n := st.next.Load(); n != nil {
			n.prev.Store(nil) // drained: let it go
		}
	}
}

// moduleEntry is one entry of the level table.
type moduleEntry struct {
	level  slog.LevelVar
	logger *slog.Logger
}

// New returns a Logger configured by cfg. An invalid cfg, a file sink that
// cannot be opened or an invalid option is an error; every bad field is
// named, such as `logger.levels.netron: unknown level "verbose"`.
func New(cfg Config, opts ...Option) (*Logger, error) {
	l := &Logger{
		modules: make(map[string]*moduleEntry),
		files:   make(map[string]*os.File),
	}
	l.opts.stdout, l.opts.stderr = os.Stdout, os.Stderr
	var errs []error
	for i, o := range opts {
		if o == nil {
			errs = append(errs, fmt.Errorf("logger: option %d is nil", i))
			continue
		}
		if err := o.apply(&l.opts); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := l.Apply(cfg); err != nil {
		return nil, err
	}
	l.root = l.For("")
	return l, nil
}

// Root returns the logger of no module: its records carry no module
// attribute and its level is [Config.Level].
func (l *Logger) Root() *slog.Logger { return l.root }

// For returns the logger of module, whose records carry the attribute
// module=<module>. Its minimum level is Levels[module], or Level when the
// module has no entry, and follows [Logger.Apply]. Loggers derived from it
// with With or WithGroup keep that level. Calls with the same module return
// the same logger; For("") is [Logger.Root].
func (l *Logger) For(module string) *slog.Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m, ok := l.modules[module]; ok {
		return m.logger
	}
	m := new(moduleEntry)
	m.level.Set(l.state.Load().plan.moduleLevel(module))
	m.logger = slog.New(newModuleHandler(l, &m.level, module))
	l.modules[module] = m
	return m.logger
}

// Apply replaces the configuration of a running Logger. Levels (global and
// per module), the redaction list, formats and sinks take effect at once
// for every logger handed out before, without re-creating them. File sinks
// whose path is unchanged stay open; files no longer used are closed once
// the records being written to them are, so no record is lost; Apply does
// not wait for that, so a sink may log through, or apply to, the Logger it
// belongs to.
//
// If cfg is invalid or a file sink cannot be opened, Apply returns an error
// naming every bad field and the Logger keeps its previous configuration
// entirely. After [Logger.Close], Apply returns [ErrClosed].
func (l *Logger) Apply(cfg Config) error {
	old, unused, err := l.swap(cfg)
	if err != nil {
		return err
	}
	if old != nil { // nil on the first Apply, from New
		old.retire(unused)
	}
	return nil
}

// swap puts cfg in force and returns the state it replaced and the files
// that state wrote to and cfg no longer uses.
func (l *Logger) swap(cfg Config) (old *state, unused []*os.File, err error) {
	p, err := compile(cfg)
	if err != nil {
		return nil, nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, nil, ErrClosed
	}
	files, err := openFiles(p.sinks, l.files)
	if err != nil {
		return nil, nil, err
	}

	handlers := make([]slog.Handler, 0, len(p.sinks)+len(l.opts.extra))
	for _, sp := range p.sinks {
		handlers = append(handlers, l.sinkHandler(sp, p, files))
	}
	handlers = append(handlers, l.opts.extra...)
	st := &state{
		plan:    p,
		handler: traceHandler{&redactHandler{r: newRedactor(p.redact), next: slogmulti.Fanout(handlers...)}},
	}
	if old = l.state.Load(); old != nil {
		st.prev.Store(old)
		old.next.Store(st)
	}
	l.state.Store(st)
	for name, m := range l.modules {
		m.level.Set(p.moduleLevel(name))
	}

	for _, key := range slices.Sorted(maps.Keys(l.files)) {
		if f := l.files[key]; files[key] != f {
			unused = append(unused, f)
		}
	}
	l.files = files
	return old, unused, nil
}

// Close closes the file sinks. Loggers stay usable: records still reach the
// stdout, stderr and extra sinks, and are dropped for the closed files.
// Close is idempotent.
func (l *Logger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(l.files)) {
		if err := l.files[key].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	l.files = nil
	return errors.Join(errs...)
}
