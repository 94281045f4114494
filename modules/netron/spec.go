package netron

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// MethodSpec describes a served method to interceptors: its names and
// shape, its contract, and the options it was registered with. It is what
// features such as validation (package validate) and the response cache
// (package cache) read; it never changes once the service is registered.
type MethodSpec struct{ m *method }

// Spec returns the method being served, or nil on the calling side (the
// method is remote).
func (c *Call) Spec() *MethodSpec {
	if c.client || c.m == nil {
		return nil
	}
	return &c.m.spec
}

// Service returns the qualified name of the method's service
// ("calculator@1.0.0").
func (s *MethodSpec) Service() string { return s.m.svc.qualified }

// ServiceName returns the name of the method's service without its
// version ("calculator").
func (s *MethodSpec) ServiceName() string { return s.m.svc.name }

// Policy returns the value a [Policy] option recorded under key on the
// method, else on its service, else nil.
func (s *MethodSpec) Policy(key string) any {
	if v, ok := s.m.extensions[key]; ok {
		return v
	}
	return s.m.svc.extensions[key]
}

// MethodPolicy returns the value a [Policy] option recorded under key on
// the method itself (given to [WithMethod]), or nil: a module tells with
// it whether a policy is the method's own or its service's (a service's
// rate limit counts the calls of all its methods together).
func (s *MethodSpec) MethodPolicy(key string) any { return s.m.extensions[key] }

// Name returns the method's wire name ("add").
func (s *MethodSpec) Name() string { return s.m.name }

// GoName returns the Go method's name ("Add").
func (s *MethodSpec) GoName() string { return s.m.goName }

// Streaming reports a server-streaming method.
func (s *MethodSpec) Streaming() bool { return s.m.kind == kindStream }

// Void reports a method without a result (it returns only an error).
func (s *MethodSpec) Void() bool { return s.m.kind == kindVoid }

// NumArgs returns how many arguments the method takes (after the context).
func (s *MethodSpec) NumArgs() int { return len(s.m.args) }

// InputSchema returns the contract of the arguments: a JSON Schema of the
// argument list (a tuple). The caller must not modify it.
func (s *MethodSpec) InputSchema() json.RawMessage { return s.m.inSchema }

// OutputSchema returns the contract of the result, or of each item of a
// stream; nil for a void method. The caller must not modify it.
func (s *MethodSpec) OutputSchema() json.RawMessage { return s.m.outSchema }

// CacheTTL returns how long a result of the method may be served from a
// response cache (titan.Cache, titan.CacheTTL); zero when it may not.
func (s *MethodSpec) CacheTTL() time.Duration { return s.m.cacheTTL }

// Extension returns the value recorded under key on the method
// ([WithMethodExtension]), or nil.
func (s *MethodSpec) Extension(key string) any { return s.m.extensions[key] }

// Options returns the method options the method was registered with
// ([WithMethod], titan.Method), in order, so that a feature finds its own
// among them. The caller must not modify the slice.
func (s *MethodSpec) Options() []MethodOption { return s.m.opts }

// CheckResult reports whether v, a result of the method or an item of its
// stream, satisfies the output contract; the error names each failing
// JSON pointer with its reason, for the server's log (the caller should
// receive an internal error, not these details). It costs nothing when the
// Go result type alone guarantees the contract.
func (s *MethodSpec) CheckResult(v any) error {
	m := s.m
	if m.outV == nil || m.outByType {
		return nil
	}
	if m.outT.Valid(v) {
		return nil
	}
	if m.outC != nil {
		// The encoded form is what the contract is about (the JSON the
		// validator is given is made from it): proven there, the value
		// needs no conversion.
		bp := checkBufs.Get().(*[]byte)
		b, err := protocol.AppendValue((*bp)[:0], v)
		ok := err == nil && m.outC.Valid(b)
		if cap(b) <= maxCheckBuf {
			*bp = b[:0]
			checkBufs.Put(bp)
		}
		if ok {
			return nil
		}
	}
	toJSON := protocol.ToJSON
	if m.outDerived {
		toJSON = protocol.ToJSONForContract
	}
	j, err := toJSON(v)
	if err != nil {
		return err
	}
	if vs := m.outV.Validate(j); vs != nil {
		parts := make([]string, len(vs))
		for i, v := range vs {
			p := v.Pointer()
			if p == "" {
				p = "/"
			}
			parts[i] = p + ": " + v.Reason
		}
		return fmt.Errorf("%s violates the contract: %s", s.resultWord(), strings.Join(parts, "; "))
	}
	return nil
}

// checkBufs hold the encoded results CheckResult checks; buffers above
// maxCheckBuf are left to the collector.
var checkBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxCheckBuf = 64 << 10

// resultWord is what a value of the method is called in messages.
func (s *MethodSpec) resultWord() string {
	if s.m.kind == kindStream {
		return "stream item"
	}
	return "result"
}

// ResultContractError is the error a caller gets when a result or stream
// item of the method breaks its output contract: internal (the server broke
// its own contract), without the details, which belong in the server's log.
func (c *Call) ResultContractError() error {
	what := "result"
	if c.m != nil {
		what = c.m.spec.resultWord()
	}
	return NewError(CodeInternal, fmt.Errorf("the %s of %s.%s does not match its contract", what, c.Service, c.Method))
}

// CheckArgs checks the arguments of a call being served against the
// method's input contract. A violation is invalid_argument, in the words
// of the method and its arguments: a wrong count says what the method
// takes ("calculator@1.0.0.add takes 2 arguments (a: number, b: number),
// got 3"), a wrong value names the argument and each failing JSON pointer
// in it, and the error's details list the pointers with their reasons. It
// returns nil at once on the calling side, and where the Go types of the
// arguments alone enforce the contract (decoding them checks it).
func (c *Call) CheckArgs() error {
	if c.client || c.m == nil || c.m.inByType && !anyNull(c.raw) && binary(c.raw, c.m.binArgs) {
		// Scalar arguments: decoding checks them (see decodeArgs), except
		// null and undefined, which decode to the zero value and which
		// the schema refuses: those take the validator, for its message.
		return nil
	}
	// The count first: the contract's own word for a wrong count
	// ("maxItems", "false schema" for each extra item) says less.
	if err := c.checkArity(); err != nil {
		return err
	}
	if c.m.inC.ValidTuple(c.raw) {
		return nil
	}
	args, err := c.contractArgs()
	if err != nil {
		return Errorf(CodeInvalidArgument, "%s.%s: arguments: %v", c.Service, c.Method, err)
	}
	if vs := c.m.inV.Validate(args); vs != nil {
		return c.inputViolation(vs)
	}
	return nil
}

// Identity returns who is calling, as the Netron's [IdentityFunc] (see
// [WithIdentity]) says for ctx, the call's context; "" without one. A
// response cache keys results by it so that callers never share them.
func (c *Call) Identity(ctx context.Context) string {
	if c.identity == nil {
		return ""
	}
	return c.identity(ctx)
}

// binary reports whether the arguments at the indices are MessagePack
// binary data (bin 8, 16 or 32); false when one is missing.
func binary(raw []protocol.RawValue, at []int) bool {
	for _, i := range at {
		if i >= len(raw) || len(raw[i]) == 0 || raw[i][0] < 0xc4 || raw[i][0] > 0xc6 {
			return false
		}
	}
	return true
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

// CacheInvalidator is implemented by an interceptor that keeps results
// (package cache): the invalidate_cache task ([TaskInvalidateCache]) asks
// each of the Netron's interceptors that implements it to remove the
// results of the services whose qualified name ("users@1.0.0") or name
// matches pattern ('*' stands for any run of characters; "" matches every
// service), and answers with the total removed.
type CacheInvalidator interface {
	Invalidate(pattern string) int
}

// contractArgs returns the arguments in the form the input contract is
// checked on: JSONArgs's, except that binary data is compact when the
// contract is derived from the Go types (protocol.ToJSONForContract).
func (c *Call) contractArgs() ([]any, error) {
	if !c.m.inDerived || c.jsonOK {
		return c.JSONArgs()
	}
	out := make([]any, 0, len(c.raw))
	for _, r := range c.raw {
		v, err := protocol.DecodeValue(r, c.limits)
		if err != nil {
			return nil, err
		}
		if v, err = protocol.ToJSONForContract(v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
