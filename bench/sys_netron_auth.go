package main

import (
	"context"
	"fmt"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/security"
	"github.com/titanframework/titan/modules/security/jwtauth"
)

// The -auth row is netron-tcp with the security module's guard on the
// server, as the security module installs it in an app (the authenticator
// of the authenticate task, the access, the cache's identity, and the
// interceptor, first: in an app only tracing and metrics sit outside it):
// Echo is titan.Auth(titan.Roles("admin")), and the client authenticates
// its connection once, with an HS256 JWT, through the authenticate task. Every call is then checked against the
// connection's identity (expiry, role); the token is not verified again.
//
// Linking modules/security adds its module to every titan app of this
// program (netron-tcp-bound, netron-tcp-discovered): their servers run the
// guard too, with no policy on Echo.

// benchJWT is the security.jwt section of the row: an HMAC secret.
var benchJWT = jwtauth.Config{
	Secret:     "titan-bench-hs256-secret-0123456789abcdef",
	Algorithms: []string{"HS256"},
	Issuer:     "titan-bench",
	Audience:   "bench",
}

// authSide is the security of the -auth row: the guard's server options,
// the policy of Echo, and the token of its client.
type authSide struct {
	guard  *security.Guard
	server []netron.Option
	policy netron.ServiceOption
	token  string
}

func newAuthSide() (*authSide, error) {
	cfg := security.DefaultConfig()
	cfg.JWT = benchJWT
	g, err := security.New(context.Background(), cfg, security.Options{})
	if err != nil {
		return nil, err
	}
	tok, err := jwtauth.Mint(cfg.JWT, jwtauth.MintClaims{Subject: "bench", Roles: []string{"admin"}, TTL: time.Hour})
	if err != nil {
		g.Close()
		return nil, err
	}
	return &authSide{
		guard:  g,
		server: append(g.Options(), netron.WithInterceptors(g)),
		policy: titan.Auth(titan.Roles("admin")),
		token:  tok,
	}, nil
}

// authenticate runs the authenticate task on p's connection with tok.
func authenticate(ctx context.Context, p *netron.Peer, tok string) error {
	var res map[string]any
	if err := p.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: tok}}); err != nil {
		return fmt.Errorf("authenticate: %w", err)
	}
	if res["success"] != true {
		return fmt.Errorf("authenticate: refused: %v", res["error"])
	}
	return nil
}

// checkAuth shows that the guard is in the path before the row is
// measured: an anonymous connection is refused (unauthenticated), one
// authenticated without the role too (permission_denied).
func checkAuth(ctx context.Context, client *netron.Netron, addr string) error {
	refused := func(what string, tok string, want netron.Code) error {
		p, err := client.Dial(ctx, addr)
		if err != nil {
			return err
		}
		defer p.Close()
		if tok != "" {
			if err := authenticate(ctx, p, tok); err != nil {
				return err
			}
		}
		_, err = netron.CallUnary[string](ctx, p, "echo@1.0.0", "echo", "x")
		if netron.CodeOf(err) != want {
			return fmt.Errorf("auth check: %s call answered %v, want %v", what, err, want)
		}
		return nil
	}
	if err := refused("an anonymous", "", netron.CodeUnauthenticated); err != nil {
		return err
	}
	reader, err := jwtauth.Mint(benchJWT, jwtauth.MintClaims{Subject: "reader", Roles: []string{"reader"}, TTL: time.Hour})
	if err != nil {
		return err
	}
	return refused("a reader's", reader, netron.CodePermissionDenied)
}
