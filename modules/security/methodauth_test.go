package security_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
)

// A method's titan.Auth replaces its service's for that method, as
// titan.Public does (the Auth doc comment says so): the method lets in
// the callers its own Auth names, and no longer those of the service's.
func TestMethodAuthReplacesTheServices(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	var n *netron.Netron
	testsrv.StartApp(t, titan.WithConfig(config.Options{Sets: []string{
		"logger.level=error",
		"netron.listen=tcp://127.0.0.1:0",
		"security.jwt.publicKeyFile=" + s.pubFile,
		"security.jwt.algorithms=RS256",
		"security.jwt.issuer=" + testIssuer,
		"security.jwt.audience=" + testAudience,
	}, Environ: []string{}, NoWatch: true}),
		titan.Service("vault", "1.0.0", func() Vault { return Vault{} },
			titan.Auth(titan.Roles("admin")), titan.Method("ping", titan.Auth(titan.Roles("reader")))),
		titan.Invoke(func(x *netron.Netron) { n = x }))
	peer := dialAll(t, n.Addrs()[0])[0]
	admin := bearer(context.Background(), s.token(t, claims("alice", []string{"admin"}, nil)))
	reader := bearer(context.Background(), s.token(t, claims("bob", []string{"reader"}, nil)))
	for _, c := range []struct {
		who    string
		ctx    context.Context
		method string
		want   netron.Code
	}{
		{"admin", admin, "open", codeOK},
		{"reader", reader, "open", netron.CodePermissionDenied},
		{"reader", reader, "ping", codeOK},
		{"admin", admin, "ping", netron.CodePermissionDenied},
		{"anonymous", context.Background(), "ping", netron.CodeUnauthenticated},
	} {
		var args []any
		if c.method == "open" {
			args = []any{"gold"}
		}
		_, err := peer.Call(c.ctx, "vault@1.0.0", c.method, args...)
		if got := codeOf(err); got != c.want {
			t.Errorf("%s calling %s: %v (%v), want %v", c.who, c.method, got, err, c.want)
		}
		if c.want == netron.CodePermissionDenied && !strings.Contains(err.Error(), "one of the roles") {
			t.Errorf("%s calling %s: %v, want it to name the role needed", c.who, c.method, err)
		}
	}
}
