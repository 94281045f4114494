package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/titanframework/titan/modules/netron"
)

func init() { register("services", newInspect) }

// inspectDoc is the document `titan inspect --json` prints.
type inspectDoc struct {
	Address  string       `json:"address"`
	Services []serviceDoc `json:"services"`
}

func newInspect() *cobra.Command {
	var (
		remote  remoteFlags
		asJSON  bool
		schemas bool
	)
	cmd := &cobra.Command{
		Use:   "inspect ADDRESS [SERVICE]",
		Short: "List the services of a running process, their methods and contracts",
		Long: `List the services the Netron process at ADDRESS exposes, with their
methods and contracts. Without SERVICE every service is listed, which needs
a Titan (Go) server: the list comes from its list_services task (over
http:// from the gateway's GET /discover). With
SERVICE (name@version, name@range or a bare name) only that service is
shown, which works with any Netron server.

ADDRESS is a URL: tcp://127.0.0.1:7070, unix:///run/app.sock or
http://127.0.0.1:7080 (a bare host:port means tcp).

The text output has one line per service, then one indented line per
method, its signature derived from its JSON Schema contracts:

  calculator@1.0.0
    add(number, number) -> number
    count(integer) -> stream of integer

A signature lists the types of the positional arguments and the result:
JSON Schema's type names, []T for arrays, {a T, b? U} for objects (b
optional), A|B for alternatives; "stream of T" for a stream method; no
result for a void method. --schemas adds each method's input schema (the
tuple of its arguments) and output schema (the result, or each stream
item) as indented JSON.

--json prints one JSON document instead:

  {"address": "...", "services": [{"name", "version", "id", "transports",
   "methods": [{"name", "signature", "stream", "inputSchema",
   "outputSchema"}]}]}

with the schemas always included; a method without outputSchema is void.`,
		Example: `  titan inspect tcp://127.0.0.1:7070
  titan inspect localhost:7070 calculator@^1 --schemas
  titan inspect unix:///run/app.sock --json | jq '.services[].name'`,
		Args: usage(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := remote.check(); err != nil {
				return err
			}
			addr, err := parseAddress(args[0])
			if err != nil {
				return err
			}
			target := ""
			if len(args) == 2 {
				target = args[1]
				if _, err := netron.ParseTarget(target); err != nil {
					return badTarget(err)
				}
			}
			ctx, cancel := remote.context(cmd.Context(), true)
			defer cancel()
			doc, err := inspect(ctx, addr, target, remote.timeout)
			if err != nil {
				return failure(ctx, err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
			}
			return writeInspect(w, doc, schemas)
		},
	}
	remote.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON document (with the schemas)")
	cmd.Flags().BoolVar(&schemas, "schemas", false, "print the input and output schema of each method")
	return cmd
}

// inspect reads the definitions of target, or of every service the peer
// lists when target is "".
func inspect(ctx context.Context, addr, target string, timeout time.Duration) (*inspectDoc, error) {
	p, closePeer, err := connect(ctx, addr, timeout)
	if err != nil {
		return nil, err
	}
	defer closePeer()
	targets := []string{target}
	if target == "" {
		list, err := p.Services(ctx)
		if err != nil {
			if netron.CodeOf(err) == netron.CodeNotFound {
				return nil, fmt.Errorf("%w (the server cannot list its services: name the SERVICE to inspect)", err)
			}
			return nil, err
		}
		targets = targets[:0]
		for _, s := range list {
			targets = append(targets, netron.QualifiedName(s.Name, s.Version))
		}
	}
	doc := &inspectDoc{Address: addr, Services: []serviceDoc{}}
	for _, t := range targets {
		def, err := definition(ctx, p, t)
		if err != nil {
			return nil, err
		}
		s, err := describe(def)
		if err != nil {
			return nil, err
		}
		doc.Services = append(doc.Services, s)
	}
	return doc, nil
}

// writeInspect prints doc as text: each service, its methods' signatures
// and, with schemas, their contracts.
func writeInspect(w io.Writer, doc *inspectDoc, schemas bool) error {
	var b strings.Builder
	if len(doc.Services) == 0 {
		fmt.Fprintf(&b, "no services at %s\n", doc.Address)
	}
	for i, s := range doc.Services {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s.qualified())
		if len(s.Transports) > 0 {
			fmt.Fprintf(&b, " (transports: %s)", strings.Join(s.Transports, ", "))
		}
		b.WriteByte('\n')
		if len(s.Methods) == 0 {
			b.WriteString("  (no methods)\n")
		}
		for _, m := range s.Methods {
			fmt.Fprintf(&b, "  %s\n", m.Signature)
			if !schemas {
				continue
			}
			writeSchema(&b, "input", m.InputSchema)
			writeSchema(&b, "output", m.OutputSchema)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSchema prints a labelled schema indented under its method.
func writeSchema(b *strings.Builder, label string, schema any) {
	if schema == nil {
		return
	}
	const indent = "      "
	var j strings.Builder
	enc := json.NewEncoder(&j)
	enc.SetEscapeHTML(false)
	enc.SetIndent(indent, "  ")
	if err := enc.Encode(schema); err != nil {
		j.Reset()
		j.WriteString("?\n")
	}
	fmt.Fprintf(b, "    %s schema:\n%s%s", label, indent, j.String())
}
