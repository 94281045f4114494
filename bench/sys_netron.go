package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	_ "github.com/titanframework/titan/modules/netron/transport/tcp"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
	_ "github.com/titanframework/titan/modules/netron/transport/unix"
	"github.com/titanframework/titan/modules/netron/validate"
)

// Echo is the service every Netron row calls: a real service method with a
// JSON Schema contract, through the public client API.
type Echo struct{}

// EchoInput is the contract of the argument.
type EchoInput = string

// Echo returns s.
func (Echo) Echo(_ context.Context, s EchoInput) (string, error) { return s, nil }

// Repeat streams s n times.
func (Echo) Repeat(_ context.Context, s string, n int) iter.Seq2[string, error] { return repeat(s, n) }

// Bytes returns b.
func (Echo) Bytes(_ context.Context, b []byte) ([]byte, error) { return b, nil }

// RepeatBytes streams b n times.
func (Echo) RepeatBytes(_ context.Context, b []byte, n int) iter.Seq2[[]byte, error] {
	return repeat(b, n)
}

// User returns u: the message family.
func (Echo) User(_ context.Context, u User) (User, error) { return u, nil }

// RepeatUser streams u n times.
func (Echo) RepeatUser(_ context.Context, u User, n int) iter.Seq2[User, error] { return repeat(u, n) }

// Page returns p: the list family.
func (Echo) Page(_ context.Context, p Page) (Page, error) { return p, nil }

// RepeatPage streams p n times.
func (Echo) RepeatPage(_ context.Context, p Page, n int) iter.Seq2[Page, error] { return repeat(p, n) }

func repeat[T any](v T, n int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for range n {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// EchoFuncs is Echo giving its methods as netron.MethodFuncs, as a
// service does to be called without reflection.
type EchoFuncs struct{ echoService }

// echoService names Echo so that embedding it promotes its Echo method (a
// field named Echo would hide it).
type echoService = Echo

// NetronMethods gives the methods as typed func values.
func (e EchoFuncs) NetronMethods() map[string]netron.MethodFunc {
	return map[string]netron.MethodFunc{
		"Echo":  netron.Func1(e.Echo),
		"Bytes": netron.Func1(e.Bytes),
		"User":  netron.Func1(e.User),
		"Page":  netron.Func1(e.Page),

		"Repeat":      netron.Stream2(e.Repeat),
		"RepeatBytes": netron.Stream2(e.RepeatBytes),
		"RepeatUser":  netron.Stream2(e.RepeatUser),
		"RepeatPage":  netron.Stream2(e.RepeatPage),
	}
}

// netronRow is what a Netron row runs: the transport, and what the server
// and client add to the plain validated call.
type netronRow struct {
	scheme             string
	noval, chain, auth bool
	funcs              bool // the service gives its methods as MethodFuncs (EchoFuncs)
	obs                observation
}

func init() {
	for _, v := range []struct {
		name string
		row  netronRow
	}{
		{"netron-tcp", netronRow{scheme: "tcp"}}, {"netron-tcp-noval", netronRow{scheme: "tcp", noval: true}},
		{"netron-unix", netronRow{scheme: "unix"}}, {"netron-unix-noval", netronRow{scheme: "unix", noval: true}},
		{"netron-ws", netronRow{scheme: "ws"}}, {"netron-ws-noval", netronRow{scheme: "ws", noval: true}},
		{"netron-tls", netronRow{scheme: "tls"}}, {"netron-wss", netronRow{scheme: "wss"}},
		{"netron-tcp-chain", netronRow{scheme: "tcp", chain: true}}, {"netron-unix-chain", netronRow{scheme: "unix", chain: true}},
		{"netron-tcp-funcs", netronRow{scheme: "tcp", funcs: true}}, {"netron-tcp-chain-funcs", netronRow{scheme: "tcp", chain: true, funcs: true}},
		{"netron-tcp-auth", netronRow{scheme: "tcp", auth: true}},
		{"netron-tcp-metrics", netronRow{scheme: "tcp", obs: observeMetrics}},
		{"netron-tcp-observed", netronRow{scheme: "tcp", obs: observeTraced}},
	} {
		note := "titan.Service method with a JSON Schema contract, validated"
		switch r := v.row; {
		case r.noval:
			note = "same, contract validation off"
		case secureScheme(r.scheme):
			note = "same, validated, over TLS 1.3: a self-signed ECDSA P-256 certificate for 127.0.0.1 made for the run, which the client trusts"
		case r.chain && r.funcs:
			note = "same as netron-tcp-chain, the service giving its methods as MethodFuncs"
		case r.chain:
			note = "same, validated, with a timing and a token interceptor on both sides"
		case r.funcs:
			note = "same, validated, the service giving its methods as MethodFuncs (called without reflection)"
		case r.auth:
			note = "same, validated, the security guard on the server: Echo is titan.Auth(titan.Roles(\"admin\")), the connection authenticated once (HS256 JWT, authenticate task)"
		case r.obs == observeMetrics:
			note = "same, validated, the metrics interceptor on both sides"
		case r.obs == observeTraced:
			note = "same, validated, metrics and tracing (an SDK provider sampling nothing: tracing.ratio 0) on both sides"
		}
		register(v.name, system{note: note, setup: func(c caseSpec) (*bench, error) {
			return setupNetron(c, v.row)
		}})
	}
}

// setupNetron serves Echo (EchoFuncs with funcs) on scheme and dials it;
// with chain, both sides run the interceptors of sys_netron_chain.go; with
// auth, the server runs the security guard (sys_netron_auth.go), Echo
// needs the role admin and the client authenticates its connection once.
//
// obs puts the operations modules' interceptors on both sides
// (sys_netron_observed.go). tls and wss serve a certificate made for the
// run, which the client trusts (transporttest.NewTLSConfigs), and are
// checked first (checkTLS).
func setupNetron(c caseSpec, r netronRow) (*bench, error) {
	scheme, noval, chain, auth, obs := r.scheme, r.noval, r.chain, r.auth, r.obs
	var sides chainSides
	if chain {
		sides = newChainSides("Bearer bench-token")
	}
	osrv, ocli, stopObs, err := observedSides(obs)
	if err != nil {
		return nil, err
	}
	sides.server = append(osrv, sides.server...)
	sides.client = append(ocli, sides.client...)
	var sec *authSide
	var svcOpts []netron.ServiceOption
	if auth {
		if sec, err = newAuthSide(); err != nil {
			return nil, err
		}
		sides.server = append(sec.server, sides.server...)
		svcOpts = append(svcOpts, sec.policy)
	}
	// The server has what an app's Netron has: the user's interceptors
	// (with auth, the security guard first, as the security module's),
	// then the response cache and contract validation (unless noval),
	// innermost, as titan.New installs them.
	features := []netron.Interceptor{cache.New(0)}
	if !noval {
		features = append(features, validate.New(nil))
	}
	fail := func(err error, closers ...func()) (*bench, error) {
		for _, f := range closers {
			f()
		}
		stopObs()
		if sec != nil {
			sec.guard.Close()
		}
		return nil, err
	}
	// tls:// and wss:// serve a certificate made for the run; the client
	// trusts it (and nothing else: no InsecureSkipVerify).
	var serverTLS, clientTLS *tls.Config
	if secureScheme(scheme) {
		if serverTLS, clientTLS, err = transporttest.NewTLSConfigs(); err != nil {
			return fail(err)
		}
		sides.server = append(sides.server, netron.WithTLS(serverTLS, nil))
		sides.client = append(sides.client, netron.WithTLS(nil, clientTLS))
	}
	n, err := netron.New(netron.Config{}, nil, append(sides.server, netron.WithInterceptors(features...))...)
	if err != nil {
		return fail(err)
	}
	stopServer := func() { n.Stop(context.Background()) }
	var impl any = Echo{}
	if r.funcs {
		impl = EchoFuncs{}
	}
	if err := n.Register("echo", "1.0.0", impl, svcOpts...); err != nil {
		return fail(err, stopServer)
	}
	addr := scheme + "://127.0.0.1:0"
	dir := ""
	if scheme == "unix" {
		dir, err = os.MkdirTemp("", "titan-bench-")
		if err != nil {
			return fail(err, stopServer)
		}
		addr = "unix://" + filepath.Join(dir, "echo.sock")
	}
	bound, err := n.Listen(context.Background(), addr)
	if err != nil {
		return fail(fmt.Errorf("%s: %w (is the transport built in?)", scheme, err), stopServer)
	}
	client, err := netron.New(netron.Config{}, nil, sides.client...)
	if err != nil {
		return fail(err, stopServer)
	}
	stopClient := func() { client.Stop(context.Background()) }
	p, err := client.Dial(context.Background(), bound)
	if err != nil {
		return fail(err, stopClient, stopServer)
	}
	if serverTLS != nil {
		if err := checkTLS(context.Background(), bound); err != nil {
			return fail(err, func() { p.Close() }, stopClient, stopServer)
		}
	}
	if chain {
		if err := checkChain(context.Background(), sides, p, bound); err != nil {
			return fail(err, func() { p.Close() }, stopClient, stopServer)
		}
	}
	if auth {
		if err := checkAuth(context.Background(), client, bound); err != nil {
			return fail(err, func() { p.Close() }, stopClient, stopServer)
		}
		if err := authenticate(context.Background(), p, sec.token); err != nil {
			return fail(err, func() { p.Close() }, stopClient, stopServer)
		}
	}
	b := netronCalls(c.Family, p)
	b.conns = 1
	b.cleanup = func() {
		p.Close()
		client.Stop(context.Background())
		n.Stop(context.Background())
		if sec != nil {
			sec.guard.Close()
		}
		stopObs()
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	return b, nil
}

// secureScheme reports whether scheme is one of Netron's TLS stream
// transports: tls:// (TCP) and wss:// (WebSocket).
func secureScheme(scheme string) bool { return scheme == "tls" || scheme == "wss" }

// checkTLS checks, before measuring, that the server at addr really
// speaks TLS with the run's certificate: a client that trusts only the
// system's roots must be refused.
func checkTLS(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	other, err := netron.New(netron.Config{}, nil, netron.WithTLS(nil, &tls.Config{MinVersion: tls.VersionTLS13}))
	if err != nil {
		return err
	}
	defer other.Stop(context.Background())
	p, err := other.Dial(ctx, addr)
	if err == nil {
		p.Close()
		return fmt.Errorf("%s: a client that does not trust the run's certificate was not refused", addr)
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		return fmt.Errorf("%s: a client that does not trust the run's certificate: want an unknown-authority error, got %w", addr, err)
	}
	return nil
}

// netronCalls are the calls of a family through the public client API.
func netronCalls(family string, p *netron.Peer) *bench {
	switch family {
	case familyBytes:
		return &bench{
			unary: func(ctx context.Context, payload string) error {
				out, err := netron.CallUnary[[]byte](ctx, p, "echo@1.0.0", "bytes", payloadBytes(payload))
				if err != nil {
					return err
				}
				return echoed(out, payload)
			},
			stream: func(ctx context.Context, payload string, count int) (int, error) {
				return streamed(netron.CallStream[[]byte](ctx, p, "echo@1.0.0", "repeatBytes", payloadBytes(payload), count),
					func(b []byte) error { return echoed(b, payload) })
			},
		}
	case familyMessage:
		return &bench{
			unary: func(ctx context.Context, _ string) error {
				out, err := netron.CallUnary[User](ctx, p, "echo@1.0.0", "user", theUser)
				if err != nil {
					return err
				}
				return sameUser(out, theUser)
			},
			stream: func(ctx context.Context, _ string, count int) (int, error) {
				return streamed(netron.CallStream[User](ctx, p, "echo@1.0.0", "repeatUser", theUser, count),
					func(u User) error { return sameUser(u, theUser) })
			},
		}
	case familyList:
		return &bench{
			unary: func(ctx context.Context, _ string) error {
				out, err := netron.CallUnary[Page](ctx, p, "echo@1.0.0", "page", thePage)
				if err != nil {
					return err
				}
				return samePage(out, thePage)
			},
			stream: func(ctx context.Context, _ string, count int) (int, error) {
				return streamed(netron.CallStream[Page](ctx, p, "echo@1.0.0", "repeatPage", thePage, count),
					func(pg Page) error { return samePage(pg, thePage) })
			},
		}
	}
	return &bench{
		unary: func(ctx context.Context, payload string) error {
			out, err := netron.CallUnary[string](ctx, p, "echo@1.0.0", "echo", payload)
			if err != nil {
				return err
			}
			return echoed(out, payload)
		},
		stream: func(ctx context.Context, payload string, count int) (int, error) {
			return streamed(netron.CallStream[string](ctx, p, "echo@1.0.0", "repeat", payload, count),
				func(s string) error { return echoed(s, payload) })
		},
	}
}

// streamed counts the items of a stream, each checked.
func streamed[T any](seq iter.Seq2[T, error], check func(T) error) (int, error) {
	got := 0
	for item, err := range seq {
		if err == nil {
			err = check(item)
		}
		if err != nil {
			return got, err
		}
		got++
	}
	return got, nil
}
