package netron_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// Caller answers what authorization metadata its caller sent, and a long
// string.
type Caller struct{}

func (Caller) Auth(ctx context.Context) (string, error) {
	return netron.IncomingMetadata(ctx)["authorization"], nil
}

func (Caller) Long(context.Context) (string, error) { return strings.Repeat("x", 1000), nil }

// serveCaller serves Caller on tcp:// and http:// and returns both
// addresses.
func serveCaller(t *testing.T) (tcp, http string) {
	t.Helper()
	ctx := context.Background()
	s, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	if err := s.Register("caller", "1.0.0", Caller{}); err != nil {
		t.Fatal(err)
	}
	if tcp, err = s.Listen(ctx, "tcp://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if http, err = s.Listen(ctx, "http://127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return tcp, http
}

// Each client takes the client options that mean something for it and
// refuses the others, naming the option and where it goes.
func TestClientOptionsByClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tcp, http := serveCaller(t)
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	ic := netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc { return next })
	const ok = ""
	for _, tc := range []struct {
		opt                   netron.ClientOption
		dial, pool, httpNewCl string // "" when taken, else a part of the error
	}{
		{netron.WithAddress(tcp), "not an option of netron.Dial: it takes its address as its argument", ok, "not an option of a client without a Netron"},
		{netron.WithBalancer(netron.Random), "not an option of netron.Dial: it calls one address", ok, "not an option"},
		{netron.WithLogger(nil), ok, ok, ok},
		{netron.WithConnectWait(time.Second), "ConnectWait(1s): not an option of netron.Dial: it bounds the wait of a pool's calls", ok, "ConnectWait(1s): not an option"},
		{netron.WithBearerToken("tok"), ok, ok, ok},
		{netron.WithInterceptors(ic), ok, ok, "http.NewClient calls without interceptors"},
		{netron.WithClientInterceptors("Mine()", nil, func(netron.ClientInfo) []netron.Interceptor { return nil }), ok, ok, "Mine(): not an option"},
		{netron.WithTLS(nil, &tls.Config{MinVersion: tls.VersionTLS12}), ok, "TLS(…): not an option of a pool (Netron.NewPool, titan.Remote): a pool dials with the TLS of its Netron", ok},
		{netron.WithStrict(), ok, "Strict(): not an option of a pool (Netron.NewPool, titan.Remote): it is an option of a Netron", "Strict(): not an option"},
		{httptransport.WithMaxResponseSize(1 << 20), "", "a pool shares the connections of its Netron", ok},
	} {
		t.Run(tc.opt.String(), func(t *testing.T) {
			addr := tcp
			if strings.HasPrefix(tc.opt.String(), "WithMaxResponseSize") {
				addr = http
			}
			p, err := netron.Dial(ctx, addr, tc.opt)
			check(t, "Dial", err, tc.dial)
			if err == nil {
				p.Close()
			}
			_, err = n.NewPool("caller@^1", netron.StaticResolver{"caller": tcp}, tc.opt)
			check(t, "NewPool", err, tc.pool)
			if err := netron.CheckPoolOptions(tc.opt); (err == nil) != (tc.pool == ok) {
				t.Errorf("CheckPoolOptions: %v, NewPool: %q", err, tc.pool)
			}
			_, err = httptransport.NewClient(http, tc.opt)
			check(t, "http.NewClient", err, tc.httpNewCl)
		})
	}
	// An option of the HTTP client at an address of packets is refused.
	if _, err := netron.Dial(ctx, tcp, httptransport.WithHeader("X-A", "1")); err == nil ||
		!strings.Contains(err.Error(), `WithHeader("X-A"): options of a call door (http://, https://), not of tcp://`) {
		t.Errorf("WithHeader at tcp://: %v", err)
	}
	// Bad values are errors of every client that takes the option.
	for _, opt := range []netron.ClientOption{netron.WithBearerToken(""), netron.WithBearerToken("a\nb")} {
		const want = "BearerToken(…): want a non-empty token"
		_, errDial := netron.Dial(ctx, tcp, opt)
		_, errPool := n.NewPool("caller@^1", netron.StaticResolver{}, opt)
		_, errHTTP := httptransport.NewClient(http, opt)
		for _, err := range []error{errDial, errPool, errHTTP} {
			if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "a\nb") {
				t.Errorf("%v, want %q without the token", err, want)
			}
		}
	}
}

func check(t *testing.T, client string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s refused it: %v", client, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("%s: %v, want an error containing %q", client, err, want)
	}
}

// WithBearerToken reaches the method as its caller's authorization
// metadata from every client, over packets and over HTTP; the metadata of
// a call's context wins.
func TestWithBearerToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tcp, http := serveCaller(t)
	token := netron.WithBearerToken("tok")
	calls := map[string]func(ctx context.Context) (string, error){}
	for _, addr := range []string{tcp, http} {
		p, err := netron.Dial(ctx, addr, token)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		calls["Dial "+addr] = func(ctx context.Context) (string, error) {
			return netron.CallUnary[string](ctx, p, "caller@^1", "auth")
		}
	}
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	pool, err := n.NewPool("caller@^1", nil, netron.WithAddress(tcp), token)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var bound struct {
		Auth func(context.Context) (string, error)
	}
	if err := pool.Bind(&bound); err != nil {
		t.Fatal(err)
	}
	calls["pool"] = bound.Auth
	hc, err := httptransport.NewClient(http, token)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	calls["http.NewClient"] = func(ctx context.Context) (string, error) {
		return httptransport.CallUnary[string](ctx, hc, "caller@^1", "auth")
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if got, err := call(ctx); err != nil || got != "Bearer tok" {
				t.Errorf("the method saw %q, %v; want Bearer tok", got, err)
			}
			own := netron.WithOutgoingMetadata(ctx, map[string]string{"authorization": "Bearer mine"})
			if got, err := call(own); err != nil || got != "Bearer mine" {
				t.Errorf("with the context's own: the method saw %q, %v; want Bearer mine", got, err)
			}
		})
	}
}

// The HTTP client's own options given to netron.Dial reach the client it
// calls through: a response over WithMaxResponseSize fails
// resource_exhausted.
func TestDialHTTPClientOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, http := serveCaller(t)
	p, err := netron.Dial(ctx, http, httptransport.WithMaxResponseSize(100))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := netron.CallUnary[string](ctx, p, "caller@^1", "auth"); err != nil {
		t.Fatalf("a small answer: %v", err)
	}
	if _, err := netron.CallUnary[string](ctx, p, "caller@^1", "long"); netron.CodeOf(err) != netron.CodeResourceExhausted {
		t.Fatalf("an answer over WithMaxResponseSize(100): %v, want resource_exhausted", err)
	}
}
