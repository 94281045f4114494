// Package validate enforces the contracts of the methods a Netron serves:
// the arguments before the method runs, the result before it is sent and
// each item of a stream.
//
// It is an ordinary [netron.Interceptor] written against the engine's
// public call model only ([netron.Call], [netron.MethodSpec]), and the
// template the other features (security, metrics, tracing, resilience)
// follow. A titan app installs it innermost, next to the method, unless
// the config says netron.skipValidation; with a bare Netron, give it to
// [netron.WithInterceptors]:
//
//	n, err := netron.New(cfg, log, netron.WithInterceptors(validate.New(log)))
//
// A violation of the input contract is invalid_argument in the words of
// the method and its arguments ([netron.Call.CheckArgs]); the method does
// not run. A result or stream item that breaks the output contract is the
// server's fault: the caller gets internal without details, and the log
// gets every failing JSON pointer with its reason. Calls the Netron makes
// pass through untouched: their contracts are the serving side's to
// enforce.
package validate

import (
	"context"
	"iter"
	"log/slog"

	"github.com/titanframework/titan/modules/netron"
)

// Interceptor is the validation interceptor; see the package doc.
type Interceptor struct{ log *slog.Logger }

// New returns the validation interceptor. log receives the details of
// output violations; nil discards them.
func New(log *slog.Logger) *Interceptor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Interceptor{log: log}
}

// checkOutput reports a result or stream item that breaks the output
// contract: the details to the log, the caller's error in return.
func (v *Interceptor) checkOutput(call *netron.Call, spec *netron.MethodSpec, out any) error {
	if err := spec.CheckResult(out); err != nil {
		v.log.Error("result violates the contract", "service", call.Service, "method", call.Method, "error", err)
		return call.ResultContractError()
	}
	return nil
}

// WrapUnary implements [netron.Interceptor].
func (v *Interceptor) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		spec := call.Spec()
		if spec == nil {
			return next(ctx, call)
		}
		if err := call.CheckArgs(); err != nil {
			return nil, err
		}
		res, err := next(ctx, call)
		if err != nil || spec.Void() || spec.Extension(SkipOutputKey) == true {
			return res, err
		}
		if err := v.checkOutput(call, spec, res); err != nil {
			return nil, err
		}
		return res, nil
	}
}

// WrapStreamingHandler implements [netron.Interceptor].
func (v *Interceptor) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		spec := call.Spec()
		if spec == nil {
			return next(ctx, call)
		}
		if err := call.CheckArgs(); err != nil {
			return nil, err
		}
		seq, err := next(ctx, call)
		// A nil iterator (an inner interceptor's bug) goes through as it
		// came, for the engine to refuse: there is no item to check.
		if err != nil || seq == nil || spec.Extension(SkipOutputKey) == true {
			return seq, err
		}
		return func(yield func(any, error) bool) {
			for item, err := range seq {
				if err == nil {
					err = v.checkOutput(call, spec, item)
				}
				if !yield(item, err) || err != nil {
					return
				}
			}
		}, nil
	}
}

// BorrowsCalls implements [netron.CallBorrower]: the interceptor keeps no
// Call past its call.
func (v *Interceptor) BorrowsCalls() {}

// WrapStreamingClient implements [netron.Interceptor]: calls made pass
// through.
func (v *Interceptor) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}

// SkipOutputKey is the method extension [SkipOutput] records.
const SkipOutputKey = "validate.skipOutput"

// SkipOutput turns output validation off for one method (titan.Method(
// "get", validate.SkipOutput()), or titan.SkipOutputValidation()): its
// results and stream items are sent unchecked, since they are the
// service's own code; its arguments are still checked.
func SkipOutput() netron.MethodOption {
	return netron.WithMethodExtension("SkipOutputValidation", SkipOutputKey, true, nil)
}
