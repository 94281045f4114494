package security_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/validate"
	"github.com/titanframework/titan/modules/security"
	"github.com/titanframework/titan/modules/security/jwtauth"
)

// Member is the message of the benchmark: a struct argument and result
// whose jsonschema tags give the contract the server validates.
type Member struct {
	ID     int64    `json:"id" jsonschema:"minimum=1"`
	Name   string   `json:"name" jsonschema:"minLength=1,maxLength=100"`
	Email  string   `json:"email" jsonschema:"format=email"`
	Role   string   `json:"role" jsonschema:"enum=admin,enum=member,enum=guest"`
	Active bool     `json:"active"`
	Tags   []string `json:"tags" jsonschema:"maxItems=20"`
}

// Members echoes a member.
type Members struct{}

func (Members) Echo(_ context.Context, m Member) (Member, error) { return m, nil }

var theMember = Member{
	ID: 1001, Name: "Ada Lovelace", Email: "ada@analytical-engines.example",
	Role: "member", Active: true, Tags: []string{"mathematics", "engines"},
}

// benchSecret is the HMAC secret of security.jwt.secret (HS256).
const benchSecret = "bench-secret-bench-secret-bench-secret-0123"

// benchServer is a Netron as an app's: with guard, the security guard
// (outermost, as the security module installs it); then the response
// cache and contract validation; members@1.0.0 served over tcp://, with
// policies.
type benchServer struct {
	n     *netron.Netron
	guard *security.Guard
	addr  string
	jwt   jwtauth.Config
}

func newBenchServer(b *testing.B, guard bool, policies ...netron.ServiceOption) *benchServer {
	b.Helper()
	cfg := security.DefaultConfig()
	cfg.JWT = jwtauth.Config{Secret: benchSecret, Algorithms: []string{"HS256"}, Issuer: "titan-bench", Audience: "bench"}
	s := &benchServer{jwt: cfg.JWT}
	var opts []netron.Option
	if guard {
		g, err := security.New(context.Background(), cfg, security.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(g.Close)
		s.guard = g
		opts = append(g.Options(), netron.WithInterceptors(g))
	}
	rc := cache.New(0)
	b.Cleanup(func() { _ = rc.Close() })
	opts = append(opts, netron.WithInterceptors(rc, validate.New(nil)))
	n, err := netron.New(netron.Config{}, nil, opts...)
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Register("members", "1.0.0", Members{}, policies...); err != nil {
		b.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
	})
	s.n, s.addr = n, addr
	return s
}

// token mints a token of the server's for sub with roles.
func (s *benchServer) token(b *testing.B, sub string, roles ...string) string {
	b.Helper()
	tok, err := jwtauth.Mint(s.jwt, jwtauth.MintClaims{Subject: sub, Roles: roles, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// dial connects a client; with a token, it authenticates the connection
// once with the authenticate task.
func (s *benchServer) dial(b *testing.B, token string) *netron.Peer {
	b.Helper()
	ctx := context.Background()
	p, err := netron.Dial(ctx, s.addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	if token != "" {
		var res map[string]any
		if err := p.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: token}}); err != nil {
			b.Fatal(err)
		}
		if res["success"] != true {
			b.Fatalf("authenticate: %v", res)
		}
	}
	return p
}

func echoMember(ctx context.Context, p *netron.Peer) error {
	got, err := netron.CallUnary[Member](ctx, p, "members@1.0.0", "echo", theMember)
	if err != nil {
		return err
	}
	if got.ID != theMember.ID || got.Email != theMember.Email || !slices.Equal(got.Tags, theMember.Tags) {
		return netron.Errorf(netron.CodeInternal, "bad answer %+v", got)
	}
	return nil
}

// parallel runs call from many goroutines, as b.RunParallel does, and
// reports besides ns/op the process's CPU time per call (cpu-ns/op:
// client and server together), which other processes on the machine
// disturb less than ns/op.
func parallel(b *testing.B, call func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := call(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if cpu := processCPU() - cpu; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkAuthenticatedCall measures a unary call with a struct argument
// and result over tcp://, client and server in this process, one shared
// connection, 32 callers per CPU:
//
//   - open: a server without the security guard (an app that does not
//     link modules/security);
//   - open-guarded: the guard installed, the service without a policy
//     (an open service of an app that links it);
//   - auth: the guard installed, the service titan.Auth(titan.Roles("admin")),
//     the connection authenticated once with an HS256 JWT through the
//     authenticate task.
//
// invoke-open and invoke-auth are open and auth through Netron.Invoke,
// without a network: the guard's share of the served path alone (the
// identity of invoke-auth is a token's, checked once by Guard.Identify).
func BenchmarkAuthenticatedCall(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, p *netron.Peer) {
		if err := echoMember(ctx, p); err != nil {
			b.Fatal(err)
		}
		b.SetParallelism(32) // 32 callers per CPU: throughput, not round trips
		parallel(b, func() error { return echoMember(ctx, p) })
	}
	b.Run("open", func(b *testing.B) {
		s := newBenchServer(b, false)
		run(b, s.dial(b, ""))
	})
	b.Run("open-guarded", func(b *testing.B) {
		s := newBenchServer(b, true)
		run(b, s.dial(b, ""))
	})
	b.Run("auth", func(b *testing.B) {
		s := newBenchServer(b, true, titan.Auth(titan.Roles("admin")))
		// The policy is in the path: an anonymous connection is refused.
		if err := echoMember(ctx, s.dial(b, "")); netron.CodeOf(err) != netron.CodeUnauthenticated {
			b.Fatalf("anonymous call: %v, want unauthenticated", err)
		}
		run(b, s.dial(b, s.token(b, "bench", "admin")))
	})

	arg, err := protocol.Marshal(theMember)
	if err != nil {
		b.Fatal(err)
	}
	invoke := func(b *testing.B, s *benchServer, ctx context.Context) {
		inv := func() error {
			_, err := s.n.Invoke(ctx, &netron.Invocation{Service: "members@1.0.0", Method: "echo", Args: []protocol.RawValue{arg}})
			return err
		}
		if err := inv(); err != nil {
			b.Fatal(err)
		}
		parallel(b, inv)
	}
	b.Run("invoke-open", func(b *testing.B) {
		invoke(b, newBenchServer(b, false), ctx)
	})
	b.Run("invoke-auth", func(b *testing.B) {
		s := newBenchServer(b, true, titan.Auth(titan.Roles("admin")))
		// The identity of a token, checked once (as a connection's is).
		ictx, err := s.guard.Identify(ctx, netron.Credentials{Token: s.token(b, "bench", "admin")})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.n.Invoke(ctx, &netron.Invocation{Service: "members@1.0.0", Method: "echo", Args: []protocol.RawValue{arg}}); netron.CodeOf(err) != netron.CodeUnauthenticated {
			b.Fatalf("anonymous invoke: %v, want unauthenticated", err)
		}
		invoke(b, s, ictx)
	})
}
