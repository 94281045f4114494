package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/micro"

	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

var _ discovery.Announcer = (*Registry)(nil)

// microTimeout bounds a call made through the NATS service protocol.
const microTimeout = 30 * time.Second

// Announce implements discovery.Announcer: each registered service also
// answers NATS's service protocol ($SRV.PING, $SRV.INFO and $SRV.STATS, as
// nats.go's micro package serves it), so that `nats micro list` and other
// standard NATS tooling list Titan services with their versions and
// methods. Each unary method is an endpoint on
// <prefix>.micro.<service>.<method> taking the JSON array of its
// arguments and answering its JSON result, through the same contracts and
// interceptors as every other door; a stream method's endpoint answers
// that it streams (call it through Netron). Services restricted away from
// "nats" (titan.Transports) are not announced.
func (r *Registry) Announce(_ context.Context, e netron.Engine, ins []discovery.Instance) (func(), error) {
	var svcs []micro.Service
	stop := func() {
		for _, s := range svcs {
			_ = s.Stop()
		}
	}
	byName := map[string]netron.ServiceDesc{}
	for _, d := range e.Describe() {
		byName[netron.QualifiedName(d.Name, d.Version)] = d
	}
	for _, in := range ins {
		d, ok := byName[netron.QualifiedName(in.Service, in.Version)]
		if !ok || !exposedOnNATS(d) {
			continue
		}
		s, err := micro.AddService(r.nc, micro.Config{
			Name: d.Name, Version: d.Version,
			Description: "Titan service " + netron.QualifiedName(d.Name, d.Version),
			Metadata:    map[string]string{"titan.instance": in.ID},
		})
		if err != nil {
			stop()
			return nil, fmt.Errorf("nats service protocol for %s: %w", in.ID, err)
		}
		svcs = append(svcs, s)
		g := s.AddGroup(r.prefix + ".micro." + d.Name)
		for _, m := range d.Methods {
			if err := g.AddEndpoint(m.Name, r.endpoint(e, d, m), micro.WithEndpointMetadata(map[string]string{
				"stream": strconv.FormatBool(m.Stream), "arity": strconv.Itoa(m.Arity),
			})); err != nil {
				stop()
				return nil, fmt.Errorf("nats service protocol for %s.%s: %w", in.ID, m.Name, err)
			}
		}
	}
	// The server has the endpoints' subscriptions before the app reports
	// itself started, so tooling that asks at once gets an answer.
	if err := r.nc.FlushTimeout(5 * time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("nats service protocol: %w", err)
	}
	return stop, nil
}

func exposedOnNATS(d netron.ServiceDesc) bool {
	if d.Transports == nil {
		return true
	}
	for _, t := range d.Transports {
		if t == "nats" {
			return true
		}
	}
	return false
}

// endpoint answers one method through the engine: JSON in, JSON out.
func (r *Registry) endpoint(e netron.Engine, d netron.ServiceDesc, m netron.MethodDesc) micro.HandlerFunc {
	qualified := netron.QualifiedName(d.Name, d.Version)
	return func(req micro.Request) {
		if m.Stream {
			_ = req.Error("501", fmt.Sprintf("%s.%s streams its results: call it through Netron (nats://, tcp://, ws://)", qualified, m.Name), nil)
			return
		}
		args, err := jsonArgs(req.Data(), m.Arity)
		if err != nil {
			_ = req.Error("400", fmt.Sprintf("%s.%s: %v", qualified, m.Name, err), nil)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), microTimeout)
		defer cancel()
		res, err := e.Invoke(ctx, &netron.Invocation{Service: qualified, Method: m.Name, Args: args, Transport: "nats"})
		if err != nil {
			code := netron.CodeOf(err)
			msg := err.Error()
			var ne *netron.Error
			if errors.As(err, &ne) {
				msg = ne.Message()
			}
			_ = req.Error(strconv.Itoa(code.WireCode()), msg, nil, micro.WithHeaders(micro.Headers{"Titan-Code": {code.String()}}))
			return
		}
		if _, void := res.(protocol.Undefined); void || m.Void {
			_ = req.Respond(nil)
			return
		}
		b, err := protocol.AppendValueJSON(nil, res)
		if err != nil {
			_ = req.Error("500", "internal error: the result has no JSON form", nil)
			return
		}
		_ = req.Respond(b)
	}
}

// jsonArgs converts a request body to positional arguments: a JSON array
// is the list; another value is the single argument of a method taking
// one; an empty body is none.
func jsonArgs(body []byte, arity int) ([]protocol.RawValue, error) {
	if len(body) == 0 {
		return nil, nil
	}
	raw, err := protocol.AppendJSON(nil, body)
	if err != nil {
		return nil, fmt.Errorf("the body is not JSON: %w", err)
	}
	if raw[0] == 0xdc || raw[0] == 0xdd || raw[0]&0xf0 == 0x90 { // an array
		return protocol.SplitArray(raw, nil, protocol.Limits{MaxFrameSize: len(raw) + 16})
	}
	if arity != 1 {
		return nil, fmt.Errorf("want a JSON array of its %d arguments", arity)
	}
	return []protocol.RawValue{raw}, nil
}
