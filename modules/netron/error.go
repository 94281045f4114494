package netron

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Error is an error with a [Code], as sent and received by Netron. Service
// methods return one (made with [NewError] or [Errorf]) to choose the code
// the caller sees; any other error reaches the caller with code unknown.
type Error struct {
	code    Code
	err     error
	details any
	wire    *protocol.TitanError
}

// NewError wraps err with a code. A nil err gives an error whose message is
// the code's name.
func NewError(code Code, err error) *Error {
	if err == nil {
		err = errors.New(code.String())
	}
	return &Error{code: code, err: err}
}

// Errorf is NewError(code, fmt.Errorf(format, args...)).
func Errorf(code Code, format string, args ...any) *Error {
	return NewError(code, fmt.Errorf(format, args...))
}

// Code returns the error's code.
func (e *Error) Code() Code { return e.code }

// Message returns the message without the code prefix.
func (e *Error) Message() string { return e.err.Error() }

// Error returns "code: message".
func (e *Error) Error() string { return e.code.String() + ": " + e.err.Error() }

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.err }

// Details returns the structured details sent with the error, or nil.
func (e *Error) Details() any { return e.details }

// WithDetails sets the details sent with the error (a JSON-like value: maps,
// slices, strings, numbers) and returns e.
func (e *Error) WithDetails(details any) *Error {
	e.details = details
	return e
}

// Wire returns the TitanError the error was decoded from, or nil for an
// error made locally.
func (e *Error) Wire() *protocol.TitanError { return e.wire }

// CodeOf returns the code of err: the code of an [*Error] in its chain,
// canceled and deadline_exceeded for the context errors, unknown otherwise.
// A nil err has no code; CodeOf(nil) is unknown.
func CodeOf(err error) Code {
	// No error, or an *Error itself, without errors.As: its target would
	// escape, an allocation on every call of a path that asks of nil.
	if err == nil {
		return CodeUnknown
	}
	if e, ok := err.(*Error); ok {
		return e.code
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.code
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	}
	return CodeUnknown
}

// asError converts any error into an *Error, keeping an existing one.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{code: CodeOf(err), err: err}
}

// internalMessage is what a caller sees of an internal failure (a panic, an
// encoding failure); the details go only to the server log.
const internalMessage = "internal error"

// toWire builds the TitanError sent for err. Stacks are never sent.
// refused says the server refused the call before its method ran: only
// then does the error tell the caller it did not run (ExtraNotRun). An
// error a method or interceptor returns never does, even when it wraps
// ErrNotRun (a call the method made that did not run): the caller's own
// call did run, and sending it again would run it again.
func toWire(err error, refused bool) *protocol.TitanError {
	e := asError(err)
	details := e.details
	if details == nil {
		details = protocol.Object{}
	}
	te := &protocol.TitanError{
		Name:      "TitanError",
		Code:      e.code.WireCode(),
		Message:   wireMessage(err, e),
		Details:   details,
		Context:   protocol.Object{},
		Timestamp: time.Now().UnixMilli(),
	}
	te.SetGoCode(e.code.String())
	te.TraceID, te.SpanID = TraceOf(err)
	if refused && errors.Is(err, ErrNotRun) {
		te.Extras.Set(protocol.ExtraNotRun, true)
	}
	return te
}

// MessageOf is the message a caller is sent for err, on every door: the
// message of its [*Error], with the words a method wrapped around that
// kept (fmt.Errorf("charge order 42: %w", e) sends "charge order 42:
// connection closed", not "connection closed"); err's text when it has no
// *Error.
func MessageOf(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Message()
	}
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	return wireMessage(err, e)
}

// wireMessage is MessageOf for err, whose *Error is e.
func wireMessage(err error, e *Error) string {
	if err == error(e) {
		return e.Message()
	}
	if prefix, ok := strings.CutSuffix(err.Error(), e.Error()); ok {
		return prefix + e.Message()
	}
	return e.Message()
}

// WithTrace returns err annotated with the ids of the trace and span it
// happened in, as lowercase hex (32 and 16 digits): when it answers a
// call served over a Netron connection, the TitanError sent carries them
// in traceId and spanId (NETRON-WIRE.md §10.1). The tracing module's
// interceptor annotates the errors of the calls it traces. Error,
// errors.Is, errors.As and [CodeOf] see through the annotation. A nil err
// stays nil.
func WithTrace(err error, traceID, spanID string) error {
	if err == nil {
		return nil
	}
	return &tracedError{err: err, traceID: traceID, spanID: spanID}
}

// TraceOf returns the trace and span ids err carries: those of
// [WithTrace], or those of the TitanError it was decoded from (a peer's
// traceId and spanId); empty strings when it carries none.
func TraceOf(err error) (traceID, spanID string) {
	var t *tracedError
	if errors.As(err, &t) {
		return t.traceID, t.spanID
	}
	var e *Error
	if errors.As(err, &e) && e.wire != nil {
		return e.wire.TraceID, e.wire.SpanID
	}
	return "", ""
}

// tracedError is an error annotated by WithTrace.
type tracedError struct {
	err             error
	traceID, spanID string
}

func (t *tracedError) Error() string { return t.err.Error() }
func (t *tracedError) Unwrap() error { return t.err }

// ErrNotRun is matched (errors.Is) by the error of a call that certainly
// did not run: it was never sent (the peer had no connection), or the
// server refused it before running its method (it was stopping). Such a
// call can go to another instance whatever the method does; titan.Remote
// does so. A call that was sent and then lost its connection does not
// match: it may have run.
var ErrNotRun = errors.New("the call did not run")

// ErrClosed is matched (errors.Is) by the error of a call made through
// a [Pool] after its Close. Such a call did not run (it matches ErrNotRun
// too), and no other attempt through the same pool can: a retry policy
// ends it at once.
var ErrClosed = errors.New("closed")

// closedNotRun is a message whose error matches ErrNotRun and ErrClosed.
type closedNotRun string

func (e closedNotRun) Error() string { return string(e) }
func (closedNotRun) Is(target error) bool {
	return target == ErrNotRun || target == ErrClosed
}

// notRun is a message whose error matches ErrNotRun.
type notRun string

func (e notRun) Error() string      { return string(e) }
func (notRun) Is(target error) bool { return target == ErrNotRun }

// fromWire converts an error payload received from a peer into an error:
// a TitanError keeps its code (by name from Go peers, by number from
// TypeScript ones); a JavaScript Error or any other value is unknown.
func fromWire(payload any) *Error {
	switch v := payload.(type) {
	case *protocol.TitanError:
		code, ok := CodeOfName(v.GoCode())
		if !ok {
			code = CodeOfWire(v.Code)
		}
		msg := v.Message
		if msg == "" {
			msg = code.String()
		}
		e := &Error{code: code, err: errors.New(msg), wire: v}
		if nr, _ := v.Extras.Get(protocol.ExtraNotRun); nr == true {
			e.err = notRun(msg)
		}
		if d, ok := v.Details.(protocol.Object); !ok || len(d) > 0 {
			e.details = v.Details
		}
		return e
	case *protocol.JSError:
		return &Error{code: CodeUnknown, err: errors.New(v.Message)}
	case error:
		return &Error{code: CodeUnknown, err: v}
	case protocol.Object:
		if m, ok := v.Get("message"); ok {
			if s, ok := m.(string); ok {
				return &Error{code: CodeUnknown, err: errors.New(s)}
			}
		}
	}
	return &Error{code: CodeUnknown, err: fmt.Errorf("remote error: %v", payload)}
}
