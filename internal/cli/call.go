package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

func init() { register("services", newCall) }

func newCall() *cobra.Command {
	var (
		remote remoteFlags
		reg    registryFlags
		pretty bool
	)
	cmd := &cobra.Command{
		Use:   "call {ADDRESS | --registry URL} SERVICE METHOD [JSON-ARG...]",
		Short: "Call a method of a running service and print the result as JSON",
		Long: `Call METHOD of SERVICE in the Netron process at ADDRESS and print the
result as JSON on stdout. A stream method prints one JSON value per line,
each as it arrives.

ADDRESS is a URL: tcp://127.0.0.1:7070, unix:///run/app.sock,
ws://127.0.0.1:7080, nats://127.0.0.1:4222 or http://127.0.0.1:7080 (the
HTTP gateway's JSON routes); a bare host:port means tcp. SERVICE is name@version, name@range (calculator@^1)
or a bare name (the highest version).

Each JSON-ARG is one positional argument of the method, written as JSON:
3, 2.5, true, null, "text", [1,2], {"id":7}. An argument that is not valid
JSON and does not start with {, [ or " is taken as a string, so hello is
"hello" and 1.2.3 is "1.2.3"; quote it ('"42"') to pass a string that looks
like a number. Put -- before arguments that start with '-' (negative
numbers): titan call ADDRESS calculator add -- -1 2.

The result is compact JSON (--pretty indents it); a void method prints
nothing. On failure the error goes to stderr with its code
(titan: invalid_argument: division by zero) and the exit code is 1; bad
usage (including an argument that is not valid JSON) exits with 2.

With --registry URL (redis://127.0.0.1:6379/0, the apps' discovery.url)
there is no ADDRESS: the call goes to a healthy instance of SERVICE that
the discovery registry holds.

--token TOKEN (default $TITAN_TOKEN) authenticates: over tcp://, unix://
and ws:// the connection runs the authenticate task first, which a server
that checks no tokens (no security module) refuses, so unset TITAN_TOKEN
to call such a server; over http:// and nats:// the token goes with each
request.

--timeout bounds connecting, the method lookup and a unary call; for a
stream it bounds the wait for the stream to open, after which items are
printed until the stream ends or titan is interrupted.`,
		Example: `  titan call tcp://127.0.0.1:7070 calculator@1.0.0 add 1 2
  titan call localhost:7070 users@^1 find '{"name":"ada"}' --pretty
  titan call unix:///run/app.sock clock ticks 5
  titan call --registry redis://127.0.0.1:6379/0 users@^1 find '{"name":"ada"}'`,
		Args: usage(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := remote.check(); err != nil {
				return err
			}
			if err := reg.check(); err != nil {
				return err
			}
			if reg.url != "" {
				if a := args[0]; strings.Contains(a, "://") || isHostPort(a) {
					return &usageError{fmt.Errorf("%s: with --registry there is no ADDRESS (the registry gives it): want --registry URL SERVICE METHOD [JSON-ARG...]", a)}
				}
				args = append([]string{""}, args...) // the address comes from the registry
			} else if len(args) < 3 {
				return &usageError{fmt.Errorf("want ADDRESS SERVICE METHOD (or --registry URL SERVICE METHOD), got %d arguments", len(args))}
			}
			var addr string
			if reg.url == "" {
				var err error
				if addr, err = parseAddress(args[0]); err != nil {
					return err
				}
			}
			target, method := args[1], args[2]
			if _, err := netron.ParseTarget(target); err != nil {
				return badTarget(err)
			}
			callArgs := make([]any, 0, len(args)-3)
			for i, a := range args[3:] {
				v, err := parseArg(a)
				if err != nil {
					return &usageError{fmt.Errorf("argument %d (%s): %w", i+1, abbreviate(a), err)}
				}
				callArgs = append(callArgs, v)
			}
			if reg.url != "" {
				var err error
				if addr, err = reg.resolve(cmd.Context(), &remote, target); err != nil {
					return err
				}
			}
			out := newJSONWriter(cmd.OutOrStdout(), pretty)
			return call(cmd.Context(), &remote, out, addr, target, method, callArgs)
		},
	}
	cmd.SetFlagErrorFunc(negativeNumberHint)
	remote.register(cmd.Flags())
	reg.register(cmd.Flags(), "call an instance the discovery registry at URL holds, instead of an ADDRESS")
	cmd.Flags().BoolVar(&pretty, "pretty", false, "indent the JSON output")
	return cmd
}

// call looks the method up in the service's definition, then calls it as a
// unary or a stream method, writing the results to out.
func call(parent context.Context, remote *remoteFlags, out *jsonWriter, addr, target, method string, args []any) error {
	ctx, cancel := remote.context(parent, true)
	defer cancel()
	p, closePeer, err := connect(ctx, addr, remote.timeout)
	if err != nil {
		return failure(ctx, err)
	}
	defer closePeer()
	def, err := definition(ctx, p, target)
	if err != nil {
		return failure(ctx, err)
	}
	svc, err := describe(def)
	if err != nil {
		return failure(ctx, err)
	}
	m, err := svc.method(method)
	if err != nil {
		return failure(ctx, err)
	}
	// The exact name goes straight into the CALL: no second lookup.
	if m.Stream {
		// The stream lives as long as it runs: only a signal ends it;
		// the request timeout (set by connect) bounds its opening.
		sctx, cancel := remote.context(parent, false)
		defer cancel()
		return callStream(sctx, p, out, svc.qualified(), method, args)
	}
	reply, err := p.Call(ctx, svc.qualified(), method, args...)
	if err != nil {
		return failure(ctx, err)
	}
	v, err := reply.Value()
	if err != nil {
		return failure(ctx, netron.Errorf(netron.CodeInternal, "result: %v", err))
	}
	switch v.(type) {
	case protocol.Undefined:
		return nil // void
	case protocol.StreamReference, *protocol.StreamReference:
		return failure(ctx, netron.Errorf(netron.CodeUnimplemented,
			"%s.%s answered with a stream, but its definition does not mark it as one (a TypeScript server?); titan call cannot read it",
			svc.qualified(), method))
	}
	return out.write(ctx, v)
}

func callStream(ctx context.Context, p *netron.Peer, out *jsonWriter, target, method string, args []any) error {
	for raw, err := range p.CallStream(ctx, target, method, args...) {
		if err != nil {
			return failure(ctx, err)
		}
		if err := out.write(ctx, raw); err != nil {
			return err
		}
	}
	return nil
}

// parseArg turns one JSON-ARG into a Netron value: valid JSON is
// converted by the mapping of NETRON-WIRE.md §11.1, as the HTTP gateway
// converts its JSON arguments (numbers keep every digit, object keys their
// order); anything else is a string, unless it starts with {, [ or " and so
// was meant as JSON.
func parseArg(s string) (any, error) {
	if !json.Valid([]byte(s)) {
		if t := strings.TrimSpace(s); t != "" && strings.ContainsRune(`{["`, rune(t[0])) {
			var v any
			err := json.Unmarshal([]byte(s), &v)
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		return s, nil
	}
	raw, err := protocol.AppendJSON(nil, []byte(s))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	return protocol.RawValue(raw), nil
}

// abbreviate shortens s for an error message.
func abbreviate(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "..."
	}
	return s
}

var negativeNumber = regexp.MustCompile(`unknown shorthand flag: '[0-9.]'`)

// negativeNumberHint is the flag error function of call: a negative
// number taken for a flag gets a hint to put -- before the arguments.
func negativeNumberHint(_ *cobra.Command, err error) error {
	if negativeNumber.MatchString(err.Error()) {
		err = fmt.Errorf("%w (put -- before JSON arguments that start with '-', such as negative numbers)", err)
	}
	return &usageError{err}
}

// jsonWriter prints Netron values as JSON, one value per line (or
// indented with --pretty).
type jsonWriter struct {
	w      io.Writer
	pretty bool
	buf    []byte
	ind    bytes.Buffer
}

func newJSONWriter(w io.Writer, pretty bool) *jsonWriter {
	return &jsonWriter{w: w, pretty: pretty}
}

// write prints v (a Netron value or an encoded one) as JSON, by the
// mapping of NETRON-WIRE.md §11.1 (protocol.AppendValueJSON, the HTTP
// gateway's writer): object keys in their order.
func (w *jsonWriter) write(ctx context.Context, v any) error {
	b, err := protocol.AppendValueJSON(w.buf[:0], v)
	if err != nil {
		return failure(ctx, netron.Errorf(netron.CodeInternal, "cannot print the result as JSON: %v", err))
	}
	w.buf = b
	if w.pretty {
		w.ind.Reset()
		if err := json.Indent(&w.ind, b, "", "  "); err != nil {
			return failure(ctx, netron.Errorf(netron.CodeInternal, "cannot print the result as JSON: %v", err))
		}
		b = w.ind.Bytes()
	}
	if _, err := w.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
