package netron

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"strings"

	"github.com/titanframework/titan/internal/schema"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// validationInterceptor enforces method contracts: the arguments before the
// method runs (a violation is invalid_argument naming each failing path),
// the result before it is sent and each stream item (a violation is
// internal: the server broke its own contract; details go to the log).
type validationInterceptor struct{ log *slog.Logger }

// outputViolation describes, for the log, how a result or stream item
// breaks the method's output contract: each failing JSON pointer with its
// reason.
func outputViolation(what string, vs []schema.Violation) error {
	parts := make([]string, len(vs))
	for i, v := range vs {
		p := v.Pointer()
		if p == "" {
			p = "/"
		}
		parts[i] = p + ": " + v.Reason
	}
	return fmt.Errorf("%s violates the contract: %s", what, strings.Join(parts, "; "))
}

func (v validationInterceptor) checkInput(call *Call) error {
	if call.client || call.m == nil || call.m.inByType && !anyNull(call.raw) {
		// Scalar arguments: decoding checks them (see decodeArgs), except
		// null and undefined, which decode to the zero value and which
		// the schema refuses: those take the validator, for its message.
		return nil
	}
	// The count first: the contract's own word for a wrong count
	// ("maxItems", "false schema" for each extra item) says less.
	if err := call.checkArity(); err != nil {
		return err
	}
	args, err := call.JSONArgs()
	if err != nil {
		return Errorf(CodeInvalidArgument, "%s.%s: arguments: %v", call.Service, call.Method, err)
	}
	if vs := call.m.inV.Validate(args); vs != nil {
		return call.inputViolation(vs)
	}
	return nil
}

func (v validationInterceptor) checkOutput(call *Call, what string, result any) error {
	j, err := protocol.ToJSON(result)
	if err == nil {
		if vs := call.m.outV.Validate(j); vs != nil {
			err = outputViolation(what, vs)
		}
	}
	if err != nil {
		v.log.Error("result violates the contract", "service", call.Service, "method", call.Method, "error", err)
		return NewError(CodeInternal, fmt.Errorf("the %s of %s.%s does not match its contract", what, call.Service, call.Method))
	}
	return nil
}

func (v validationInterceptor) WrapUnary(next UnaryFunc) UnaryFunc {
	return func(ctx context.Context, call *Call) (any, error) {
		if call.client || call.m == nil {
			return next(ctx, call)
		}
		if err := v.checkInput(call); err != nil {
			return nil, err
		}
		res, err := next(ctx, call)
		if err != nil || call.m.outV == nil || call.m.outByType {
			return res, err
		}
		if err := v.checkOutput(call, "result", res); err != nil {
			return nil, err
		}
		return res, nil
	}
}

func (v validationInterceptor) WrapStreamingHandler(next StreamingHandlerFunc) StreamingHandlerFunc {
	return func(ctx context.Context, call *Call) (iter.Seq2[any, error], error) {
		if err := v.checkInput(call); err != nil {
			return nil, err
		}
		seq, err := next(ctx, call)
		if err != nil {
			return nil, err
		}
		return func(yield func(any, error) bool) {
			for item, err := range seq {
				if err == nil && !call.m.outByType {
					err = v.checkOutput(call, "stream item", item)
				}
				if !yield(item, err) || err != nil {
					return
				}
			}
		}, nil
	}
}

func (v validationInterceptor) WrapStreamingClient(next StreamingClientFunc) StreamingClientFunc {
	return next
}

// anyNull reports whether an encoded argument is null (c0) or undefined
// (d4 00 00).
func anyNull(raw []protocol.RawValue) bool {
	for _, r := range raw {
		if len(r) == 1 && r[0] == 0xc0 || len(r) == 3 && r[0] == 0xd4 && r[1] == 0 && r[2] == 0 {
			return true
		}
	}
	return false
}
