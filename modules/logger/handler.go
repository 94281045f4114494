package logger

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
)

// moduleHandler is the [slog.Handler] behind every logger that [Logger.For]
// and [Logger.Root] return, and behind loggers derived from them.
//
// It checks the module's level itself (one atomic load), and forwards
// records to the Logger's current pipeline (redaction, fan-out, sinks). The
// WithAttrs and WithGroup calls made on it are recorded rather than applied
// once, and replayed on the pipeline whenever [Logger.Apply] replaces it, so
// a derived logger follows level, redaction and sink changes without being
// re-created.
type moduleHandler struct {
	core  *Logger
	level *slog.LevelVar
	ops   []handlerOp // never modified after construction
	bound atomic.Pointer[boundHandler]
}

// handlerOp is one recorded WithGroup (group != "") or WithAttrs call.
type handlerOp struct {
	group string
	attrs []slog.Attr
}

// boundHandler is the pipeline of one state with a handler's ops applied.
type boundHandler struct {
	state   *state
	handler slog.Handler
}

func newModuleHandler(core *Logger, level *slog.LevelVar, module string) *moduleHandler {
	h := &moduleHandler{core: core, level: level}
	if module != "" {
		h.ops = []handlerOp{{attrs: []slog.Attr{slog.String("module", module)}}}
	}
	return h
}

func (h *moduleHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if l < h.level.Level() {
		return false
	}
	return h.core.state.Load().handler.Enabled(ctx, l)
}

// Handle writes r through the current pipeline. The state it uses is held
// until the record is written, so that [Logger.Apply] does not close a file
// under it.
func (h *moduleHandler) Handle(ctx context.Context, r slog.Record) error {
	st := h.core.acquire()
	defer st.release()
	return h.bind(st).Handle(ctx, r)
}

func (h *moduleHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.derive(handlerOp{attrs: slices.Clone(attrs)})
}

func (h *moduleHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.derive(handlerOp{group: name})
}

func (h *moduleHandler) derive(op handlerOp) *moduleHandler {
	ops := make([]handlerOp, len(h.ops), len(h.ops)+1)
	copy(ops, h.ops)
	return &moduleHandler{core: h.core, level: h.level, ops: append(ops, op)}
}

// bind returns the pipeline of st with h's ops applied, rebuilding it
// after [Logger.Apply] has replaced the state.
func (h *moduleHandler) bind(st *state) slog.Handler {
	if b := h.bound.Load(); b != nil && b.state == st {
		return b.handler
	}
	handler := st.handler
	for _, op := range h.ops {
		if op.group != "" {
			handler = handler.WithGroup(op.group)
		} else {
			handler = handler.WithAttrs(op.attrs)
		}
	}
	h.bound.Store(&boundHandler{state: st, handler: handler})
	return handler
}
