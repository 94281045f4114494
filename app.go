package titan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/discovery"
	_ "github.com/titanframework/titan/modules/discovery/memory" // discovery.backend: memory
	"github.com/titanframework/titan/modules/linked"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/metrics"
	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/http" // http:// and https://
)

// App is a Titan application. Create it with [New]; run it with [App.Run],
// or drive it with [App.Start] and [App.Stop].
type App struct {
	opts []Option

	once  sync.Once
	built atomic.Bool // build has run: fx, err and the rest are set
	s     settings
	fx    *fx.App
	cfg   *config.Config
	log   *logger.Logger
	err   error
	extra config.Flags // from the command line, set by Run before building

	// A Start under way, which a Stop ends and waits for (fx's own
	// lifecycle would stop the hooks started so far while Start goes on
	// starting the others).
	mu        sync.Mutex
	starting  *startRun
	lastStart *startContext // the context of the last Start, for its rollback
}

// startRun is a Start under way.
type startRun struct {
	cancel  context.CancelFunc // nil until the app is built
	stopped bool               // Stop came while the app was being built
	done    chan struct{}      // closed when Start returns
}

// New returns an app made of the default modules (configuration, logging)
// and what opts add. Nothing runs until the app is started: constructors are
// called when the app is built, on the first call to Start, Run or Err.
// A nil option is an error, reported then.
func New(opts ...Option) *App {
	return &App{opts: opts}
}

// defaultModules are in every app: configuration, logging, the engine
// and its built-in features, discovery (the in-memory registry unless
// discovery.backend names another), metrics and health (modules/metrics),
// the development UI (modules/devui, off unless devui.enabled), then the
// modules of the optional packages the program links (package linked:
// nats:// and the events bridge when modules/netron/nats is imported,
// ...).
func defaultModules() []fx.Option {
	return append([]fx.Option{config.Module, logger.Module, netron.Module, fx.Provide(builtinFeatures), discovery.Module, metrics.Module, devui.Module}, linked.Modules()...)
}

func (a *App) build() {
	a.once.Do(func() {
		a.s = settings{startTimeout: DefaultStartTimeout, stopTimeout: DefaultStopTimeout}
		for i, o := range a.opts {
			if o == nil {
				a.s.errs = append(a.s.errs, fmt.Errorf("option %d of New is nil", i+1))
				continue
			}
			o.apply(&a.s)
		}
		if len(a.s.errs) > 0 {
			a.err = fmt.Errorf("titan: %w", errors.Join(a.s.errs...))
			return
		}
		co := a.s.config
		co.Files = slices.Concat(co.Files, a.s.files, a.extra.Files)
		co.Sets = slices.Concat(co.Sets, a.extra.Sets)
		co.EnvPrefix = cmp.Or(a.s.envPrefix, co.EnvPrefix)
		co.Defaults = merged(co.Defaults, a.s.defaults)
		co.Aliases = merged(co.Aliases, a.s.aliases)

		fxOpts := append(defaultModules(),
			fx.Supply(co),
			fx.Supply(fx.Annotate(a.s.logger, fx.ResultTags(`group:"`+logger.OptionGroup+`,flatten"`))),
			fx.WithLogger(func(l *logger.Logger) fxevent.Logger { return rollbackWatch{fxLogger(l), a} }),
			// What fx logs to when fxLogger cannot be built (the
			// configuration that sets the log level is invalid): nothing.
			// Err returns the error once; fx's events printed around it
			// would only bury it.
			fx.Logger(discardPrinter{}),
			fx.StartTimeout(a.s.startTimeout),
			fx.StopTimeout(a.s.stopTimeout),
			fx.Populate(&a.cfg, &a.log),
		)
		if ics := a.s.interceptors; len(ics) > 0 {
			// One option for all of them: the members of an fx value group
			// come in no defined order (dig shuffles them), and the order of
			// interceptors matters.
			fxOpts = append(fxOpts, fx.Provide(fx.Annotate(func() netron.Option { return netron.WithInterceptors(ics...) },
				fx.ResultTags(`group:"`+netron.OptionGroup+`"`))))
		}
		fxOpts = append(fxOpts, a.s.fx...)
		a.fx = fx.New(fxOpts...)
		if err := a.fx.Err(); err != nil {
			a.err = startupError(err, &a.s.notes)
		}
	})
	a.built.Store(true)
}

// Err returns the error that building the app produced, or nil: an invalid
// option, a constructor that failed, a type nobody provides, a bad
// configuration. It builds the app if that has not happened yet.
func (a *App) Err() error {
	a.build()
	return a.err
}

// Start builds the app if needed and runs the start hooks in dependency
// order, within ctx and the start timeout. If a hook fails, the hooks that
// already ran are stopped and the error is returned.
//
// A Stop while Start runs (from another goroutine: a signal during a long
// start-up) ends the start: the hooks that ran are stopped and Start
// returns an error saying so.
func (a *App) Start(ctx context.Context) error {
	run := &startRun{done: make(chan struct{})}
	a.mu.Lock()
	if a.starting != nil {
		a.mu.Unlock()
		return errors.New("titan: start: the app is already starting")
	}
	a.starting = run
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.starting = nil
		a.mu.Unlock()
		close(run.done)
	}()
	if err := a.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.s.startTimeout)
	defer cancel()
	ctx, stop := context.WithCancelCause(ctx)
	sc := &startContext{Context: ctx, stopTimeout: a.s.stopTimeout, rolledBack: make(chan struct{})}
	a.mu.Lock()
	stopped := run.stopped
	run.cancel = func() { stop(errStoppedDuringStart) }
	a.lastStart = sc
	a.mu.Unlock()
	if stopped {
		return fmt.Errorf("titan: start: %w", errStoppedDuringStart)
	}
	err := a.fx.Start(sc)
	if err == nil && sc.rollback.Load() == nil {
		return nil
	}
	// The start failed and fx stops the hooks that had started: wait for
	// that (a hook that ignores its context may hold it; not beyond the
	// stop timeout).
	t := time.NewTimer(a.s.stopTimeout)
	defer t.Stop()
	select {
	case <-sc.rolledBack:
	case <-t.C:
	}
	sc.endRollback()
	if cause := context.Cause(ctx); cause != nil && (err == nil || errors.Is(cause, errStoppedDuringStart)) {
		err = cause
	}
	return fmt.Errorf("titan: start: %w", err)
}

var errStoppedDuringStart = errors.New("the app was stopped before it finished starting")

// startContext is the context a Start gives fx. fx rolls a failed start
// back (it stops the hooks that had started) with the context it started
// with; when the start failed because that context ended (the start
// timeout, a Stop), fx would stop none of them and leave them running
// (uber-go/fx#1035). So from the rollback on, which fx tells its logger
// first (fxevent.RollingBack, see rollbackWatch), the context's end is a
// new one, the stop timeout from then; its values stay the start's.
type startContext struct {
	context.Context // the start's

	stopTimeout time.Duration
	rollback    atomic.Pointer[rollbackContext]
	rolledBack  chan struct{} // closed when fx says the rollback ended
	once        sync.Once
}

type rollbackContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *startContext) current() context.Context {
	if r := c.rollback.Load(); r != nil {
		return r.ctx
	}
	return c.Context
}

func (c *startContext) Deadline() (time.Time, bool) { return c.current().Deadline() }
func (c *startContext) Done() <-chan struct{}       { return c.current().Done() }
func (c *startContext) Err() error                  { return c.current().Err() }

// rollingBack gives the rollback its own time.
func (c *startContext) rollingBack() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), c.stopTimeout)
	if !c.rollback.CompareAndSwap(nil, &rollbackContext{ctx, cancel}) {
		cancel()
	}
}

// rolledBackNow notes the end of the rollback. The rollback's context is
// left to Start to end (endRollback): fx reads it once more after.
func (c *startContext) rolledBackNow() {
	c.once.Do(func() { close(c.rolledBack) })
}

// endRollback ends the rollback's context, if it has one.
func (c *startContext) endRollback() {
	if r := c.rollback.Load(); r != nil {
		r.cancel()
	}
}

// rollbackWatch is the app's fx logger, which also tells the last Start's
// context when fx rolls it back.
type rollbackWatch struct {
	fxevent.Logger
	a *App
}

func (w rollbackWatch) LogEvent(e fxevent.Event) {
	switch e.(type) {
	case *fxevent.RollingBack:
		if sc := w.a.startContext(); sc != nil {
			sc.rollingBack()
		}
	case *fxevent.RolledBack:
		if sc := w.a.startContext(); sc != nil {
			defer sc.rolledBackNow()
		}
	}
	w.Logger.LogEvent(e)
}

func (a *App) startContext() *startContext {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastStart
}

// Stop runs the stop hooks in reverse start order, within ctx and the stop
// timeout. It is safe after a failed or partial Start; during a Start, it
// ends it first (see [App.Start]).
func (a *App) Stop(ctx context.Context) error {
	a.mu.Lock()
	run := a.starting
	if run != nil {
		run.stopped = true
		if run.cancel != nil {
			run.cancel()
		}
	}
	a.mu.Unlock()
	if run != nil {
		select {
		case <-run.done:
		case <-ctx.Done():
			return fmt.Errorf("titan: stop: waiting for the start under way: %w", context.Cause(ctx))
		}
	}
	if !a.built.Load() || a.err != nil {
		return a.err
	}
	ctx, cancel := context.WithTimeout(ctx, a.s.stopTimeout)
	defer cancel()
	if err := a.fx.Stop(ctx); err != nil {
		return fmt.Errorf("titan: stop: %w", err)
	}
	return nil
}

// Config returns the app's configuration, or nil when it could not be built.
func (a *App) Config() *config.Config {
	a.build()
	return a.cfg
}

// Run reads --config, --set and --print-config from os.Args, starts the app,
// waits for SIGINT or SIGTERM (or a module's request to stop, through
// fx.Shutdowner) and stops it. It exits the process: 0 after a clean stop
// (or the code the module asked for), 1 when start-up or stop failed (the
// error is printed on stderr), 2 for bad flags. A signal during a start-up
// that goes on for another second ends it, without waiting for the start
// timeout: the hooks that had started are stopped, and the exit code is 1
// (the app did not start). A second signal during start-up or stop exits
// at once. The flags configure the app as it is built: --config or
// --set given to an app that Err, Config or Start built before Run are
// refused (exit 2), not silently left out.
func (a *App) Run() {
	os.Exit(a.run(os.Args[1:], os.Stdout, os.Stderr))
}

func (a *App) run(args []string, stdout, stderr io.Writer) int {
	flags, err := config.ParseFlags(args)
	if err != nil {
		fmt.Fprintf(stderr, "titan: %v\n", err)
		return 2
	}
	if a.fx != nil || a.err != nil { // built by Err, Config or Start, without the flags
		var given []string
		for _, f := range flags.Files {
			given = append(given, "--config "+f)
		}
		for _, s := range flags.Sets {
			given = append(given, "--set "+s)
		}
		if len(given) > 0 {
			fmt.Fprintf(stderr, "titan: %s: the app was built before Run read its flags (Err, Config or Start was called first), so they cannot apply; let Run build it\n", strings.Join(given, ", "))
			return 2
		}
	}
	a.extra = flags
	if err := a.Err(); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	if flags.PrintConfig {
		if err := a.cfg.Dump(stdout, "yaml"); err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		return 0
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	// A signal during a slow start-up (a remote service waited for, a
	// registry that does not answer) ends the start soon, not after the
	// start timeout: the hooks that had started are stopped.
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	started := make(chan error, 1)
	go func() { started <- a.Start(ctx) }()
	select {
	case err = <-started:
	case sig := <-sigs:
		a.log.For("titan").Info("stopping: signal received during start-up", "signal", sig.String(), "stop_timeout", a.s.stopTimeout)
		if sig, err = awaitStart(started, sigs, cancel, startGrace); sig != nil {
			fmt.Fprintf(stderr, "titan: second %v during start-up, exiting now\n", sig)
			return 1
		}
		if err == nil { // it was done starting: stop it
			return a.stop(sigs, stderr, 0)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	code := 0
	if c := awaitStop(sigs, a.fx.Wait(), relayGrace); c.sig != nil {
		a.log.For("titan").Info("stopping: signal received", "signal", c.sig.String(), "stop_timeout", a.s.stopTimeout)
	} else { // a module asked the app to stop (fx.Shutdowner)
		code = c.code
		a.log.For("titan").Info("stopping: asked by a module", "exit_code", code)
	}
	return a.stop(sigs, stderr, code)
}

// stop stops the app for Run and returns the exit code: code after a
// clean stop, 1 when the stop failed or a second signal on sigs came
// first.
func (a *App) stop(sigs <-chan os.Signal, stderr io.Writer, code int) int {
	stopped := make(chan error, 1)
	go func() { stopped <- a.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		return code
	case sig := <-sigs:
		fmt.Fprintf(stderr, "titan: second %v during stop, exiting now\n", sig)
		return 1
	}
}

// startGrace is how long a start that a signal came during may go on
// before it is ended: one about to finish finishes, and is then stopped
// as a running app is.
const startGrace = time.Second

// awaitStart waits for the start under way to return its error on
// started, for up to grace; then it ends the start with cancel and waits
// for its rollback. A second signal on sigs ends the wait: it is
// returned.
func awaitStart(started <-chan error, sigs <-chan os.Signal, cancel context.CancelCauseFunc, grace time.Duration) (os.Signal, error) {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-started:
		return nil, err
	case sig := <-sigs:
		return sig, nil
	case <-t.C:
	}
	cancel(errStoppedDuringStart)
	select {
	case err := <-started:
		return nil, err
	case sig := <-sigs:
		return sig, nil
	}
}

// stopCause is why a running app stops: a signal, or (sig nil) a
// module's fx.Shutdowner with the exit code it asked for.
type stopCause struct {
	sig  os.Signal
	code int
}

// relayGrace is how long awaitStop waits for a SIGTERM that fx relayed
// to reach the app's own channel too.
const relayGrace = 100 * time.Millisecond

// awaitStop waits for a signal on sigs or fx's shutdown signal on wait.
// fx listens for SIGINT and SIGTERM on a channel of its own, and os/signal
// delivers a signal to one channel after the other, so fx may relay a
// signal before it is in sigs. That signal must count once, as the cause:
// read later, during the stop, it would pass for a second signal and exit
// the process at once with status 1. fx.Shutdowner reports SIGTERM, so a
// SIGINT from fx is certainly a signal on its way to sigs; a SIGTERM is
// one when it reaches sigs within grace, and a module's request otherwise.
func awaitStop(sigs <-chan os.Signal, wait <-chan fx.ShutdownSignal, grace time.Duration) stopCause {
	select {
	case sig := <-sigs:
		return stopCause{sig: sig}
	case s := <-wait:
		if s.Signal == syscall.SIGINT {
			grace = max(grace, 5*time.Second) // only the OS sends it; bounded all the same
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case sig := <-sigs:
			return stopCause{sig: sig}
		case <-t.C:
			return stopCause{code: s.ExitCode}
		}
	}
}

// fxLogger sends fx's events to the "fx" module logger at debug level,
// failures included: every failure fx reports is also returned by Err, Start
// or Stop, so logging it at error level would only say it twice.
func fxLogger(l *logger.Logger) fxevent.Logger {
	fl := &fxevent.SlogLogger{Logger: l.For("fx")}
	fl.UseLogLevel(slog.LevelDebug)
	fl.UseErrorLevel(slog.LevelDebug)
	return fl
}

// merged returns a new map holding a's entries, then b's.
func merged[V any](a, b map[string]V) map[string]V {
	if len(b) == 0 {
		return a
	}
	out := maps.Clone(a)
	if out == nil {
		out = map[string]V{}
	}
	maps.Copy(out, b)
	return out
}

// discardPrinter is an fx.Printer that prints nothing.
type discardPrinter struct{}

func (discardPrinter) Printf(string, ...any) {}
