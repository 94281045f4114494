package security_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/nats" // nats://
	"github.com/titanframework/titan/modules/netron/protocol"
	_ "github.com/titanframework/titan/modules/security"
)

// hostile are the tokens every transport must refuse, with the code of
// the refusal, and the two it must tell apart: a valid token without the
// role (permission_denied) and one with it (served).
func hostile(t *testing.T, s *signer) []struct {
	name, token string
	code        netron.Code
} {
	expired := s.token(t, claims("alice", []string{"admin"}, func(c jwt.MapClaims) {
		c["exp"] = time.Now().Add(-time.Hour).Unix()
	}))
	notYet := s.token(t, claims("alice", []string{"admin"}, func(c jwt.MapClaims) {
		c["nbf"] = time.Now().Add(time.Hour).Unix()
	}))
	wrongIss := s.token(t, claims("alice", []string{"admin"}, func(c jwt.MapClaims) { c["iss"] = "someone-else" }))
	wrongAud := s.token(t, claims("alice", []string{"admin"}, func(c jwt.MapClaims) { c["aud"] = "other-app" }))
	good := s.token(t, claims("alice", []string{"admin"}, nil))
	parts := strings.Split(good, ".")
	sig := []byte(parts[2])
	sig[10] ^= 1 // still base64url, no longer the signature
	badSig := parts[0] + "." + parts[1] + "." + string(sig)
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims("alice", []string{"admin"}, nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	confused, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("alice", []string{"admin"}, nil)).SignedString(s.pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	return []struct {
		name, token string
		code        netron.Code
	}{
		{"no token", "", netron.CodeUnauthenticated},
		{"expired", expired, netron.CodeUnauthenticated},
		{"not yet valid", notYet, netron.CodeUnauthenticated},
		{"wrong issuer", wrongIss, netron.CodeUnauthenticated},
		{"wrong audience", wrongAud, netron.CodeUnauthenticated},
		{"bad signature", badSig, netron.CodeUnauthenticated},
		{"alg none", none, netron.CodeUnauthenticated},
		{"HS256 signed with the RS256 public key", confused, netron.CodeUnauthenticated},
		{"valid without the role", s.token(t, claims("bob", []string{"reader"}, nil)), netron.CodePermissionDenied},
		{"valid with the role", good, codeOK},
	}
}

// secureApp starts an app that serves vault@1.0.0 on addrs with tokens
// of s and the certificate of p, and returns its addresses by scheme.
func secureApp(t *testing.T, s *signer, p *pki, addrs []string, sets ...string) (map[string]string, *netron.Netron) {
	return secureAppWith(t, s, p, addrs, nil, sets...)
}

func secureAppWith(t *testing.T, s *signer, p *pki, addrs []string, opts []titan.Option, sets ...string) (map[string]string, *netron.Netron) {
	t.Helper()
	var n *netron.Netron
	sets = append([]string{
		"logger.level=error",
		"netron.listen=" + strings.Join(addrs, ","),
		"security.jwt.publicKeyFile=" + s.pubFile,
		"security.jwt.algorithms=RS256",
		"security.jwt.issuer=" + testIssuer,
		"security.jwt.audience=" + testAudience,
		"security.tls.cert=" + p.certFile,
		"security.tls.key=" + p.keyFile,
		"security.tls.ca=" + p.caFile,
		"security.auth.maxFailures=-1", // every test client is 127.0.0.1 (TestFailedAuthenticationsLimited)
	}, sets...)
	opts = append(opts, titan.WithConfig(config.Options{Sets: sets, Environ: []string{}, NoWatch: true}),
		vaultService(), titan.Invoke(func(x *netron.Netron) { n = x }))
	testsrv.StartApp(t, opts...)
	out := map[string]string{}
	for _, a := range n.Addrs() {
		out[a[:strings.Index(a, "://")]] = a
	}
	return out, n
}

// everyTransport are the listen addresses of the transports that run
// here (pipe:// is Windows'), nats:// on the test server.
func everyTransport(t *testing.T) []string {
	natsURL := testsrv.NATS(t)
	prefix := fmt.Sprintf("sec%d", time.Now().UnixNano())
	return []string{
		"tcp://127.0.0.1:0", "tls://127.0.0.1:0", "unix://" + filepath.Join(t.TempDir(), "vault.sock"),
		"ws://127.0.0.1:0", "wss://127.0.0.1:0", "http://127.0.0.1:0", "https://127.0.0.1:0",
		natsURL + "?prefix=" + prefix,
	}
}

func bearer(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return netron.WithOutgoingMetadata(ctx, map[string]string{"authorization": "Bearer " + token})
}

// dialAnonymous dials addr trusting p's CA, with no client certificate
// nor token; the peer is closed when the test ends.
func dialAnonymous(t *testing.T, p *pki, addr string) *netron.Peer {
	t.Helper()
	peer, err := netron.Dial(context.Background(), addr, netron.WithTLS(nil, p.clientTLS(t, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	return peer
}

func openVault(ctx context.Context, p *netron.Peer) (string, error) {
	r, err := p.Call(ctx, "vault@1.0.0", "open", "gold")
	if err != nil {
		return "", err
	}
	var s string
	err = r.Decode(&s)
	return s, err
}

// Every hostile token is refused with its code on every transport, a
// valid one with the role is served, and the public method is open to
// all; a well-behaved client keeps being served throughout.
func TestRefusedOnEveryTransport(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, everyTransport(t))
	cases := hostile(t, s)
	ctx := context.Background()
	for scheme, addr := range addrs {
		t.Run(scheme, func(t *testing.T) {
			peer := dialAnonymous(t, p, addr)
			for _, c := range cases {
				got, err := openVault(bearer(ctx, c.token), peer)
				if code := codeOf(err); code != c.code {
					t.Errorf("%s: code %v (%v), want %v", c.name, code, err, c.code)
				} else if c.code == codeOK && got != "opened gold for alice" {
					t.Errorf("%s: got %q", c.name, got)
				}
				if err != nil && c.token != "" && strings.Contains(err.Error(), c.token) {
					t.Errorf("%s: the error repeats the token", c.name)
				}
				r, err := peer.Call(ctx, "vault@1.0.0", "ping")
				if err != nil {
					t.Fatalf("after %s: the public method: %v", c.name, err)
				}
				var pong string
				if err := r.Decode(&pong); err != nil || pong != "pong" {
					t.Fatalf("after %s: ping = %q, %v", c.name, pong, err)
				}
			}
		})
	}
}

// On stream transports the authenticate task gives the connection its
// identity: refused tokens leave it anonymous, a valid one lets it in,
// and authenticating again as another user changes what it may call.
// Over NATS, which keeps no connection on the serving side, a gateway
// answers the task and the calling side sends the token it kept with the
// later calls, with the same outcome.
func TestAuthenticateTaskAndReauthentication(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	natsURL := testsrv.NATS(t) + fmt.Sprintf("?prefix=auth%d", time.Now().UnixNano())
	addrs, _ := secureApp(t, s, p, []string{"tcp://127.0.0.1:0", "tls://127.0.0.1:0", "ws://127.0.0.1:0", "unix://" + filepath.Join(t.TempDir(), "v.sock"), natsURL})
	cases := hostile(t, s)
	ctx := context.Background()
	for scheme, addr := range addrs {
		t.Run(scheme, func(t *testing.T) {
			peer := dialAnonymous(t, p, addr)
			for _, c := range cases {
				if c.token == "" {
					continue
				}
				var res map[string]any
				if err := peer.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: c.token}}); err != nil {
					t.Fatalf("%s: authenticate: %v", c.name, err)
				}
				ok, _ := res["success"].(bool)
				if ok != (c.code != netron.CodeUnauthenticated) {
					t.Errorf("%s: AuthResult %v", c.name, res)
				}
				if msg, _ := res["error"].(string); strings.Contains(msg, c.token) {
					t.Errorf("%s: the AuthResult repeats the token", c.name)
				}
				_, err := openVault(ctx, peer)
				if code := codeOf(err); code != c.code {
					t.Errorf("%s then open: code %v (%v), want %v", c.name, code, err, c.code)
				}
			}
			// alice (admin) then bob (reader) on the same connection.
			var res map[string]any
			if err := peer.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: s.token(t, claims("alice", []string{"admin"}, nil))}}); err != nil {
				t.Fatal(err)
			}
			if got, err := openVault(ctx, peer); err != nil || got != "opened gold for alice" {
				t.Fatalf("as alice: %q, %v", got, err)
			}
			if err := peer.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: s.token(t, claims("bob", []string{"reader"}, nil))}}); err != nil {
				t.Fatal(err)
			}
			if _, err := openVault(ctx, peer); codeOf(err) != netron.CodePermissionDenied {
				t.Fatalf("as bob: %v, want permission_denied", err)
			}
		})
	}
}

// A token that expires while its connection is open stops opening the
// vault at its expiry, without a new authentication.
func TestExpiryOnLongLivedConnection(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"tcp://127.0.0.1:0"}, "security.jwt.leeway=1ms")
	ctx := context.Background()
	peer, err := netron.Dial(ctx, addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	exp := time.Now().Add(2 * time.Second).Unix()
	short := s.token(t, claims("alice", []string{"admin"}, func(c jwt.MapClaims) {
		c["exp"] = exp
	}))
	var res map[string]any
	if err := peer.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: short}}); err != nil || res["success"] != true {
		t.Fatalf("authenticate: %v %v", res, err)
	}
	if _, err := openVault(ctx, peer); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	// Call from the token's expiry on until a call fails: one begun half a
	// second after it must (calls before that may still pass, the
	// server's check being a little late).
	time.Sleep(time.Until(time.Unix(exp, 0)))
	for late := time.Unix(exp, 0).Add(500 * time.Millisecond); err == nil; time.Sleep(10 * time.Millisecond) {
		begun := time.Now()
		_, err = openVault(ctx, peer)
		if err == nil && begun.After(late) {
			t.Fatalf("a call begun %v after the token expired was served", begun.Sub(time.Unix(exp, 0)))
		}
	}
	if codeOf(err) != netron.CodeUnauthenticated || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("after expiry: %v, want unauthenticated (expired)", err)
	}
}

// Nothing secret reaches the logs: the tokens, the key files' contents.
func TestNoSecretInLogs(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	var logs testsrv.LogBuffer
	addrs, _ := secureAppWith(t, s, p, []string{"tcp://127.0.0.1:0", "http://127.0.0.1:0"},
		[]titan.Option{titan.WithLogger(logger.WithWriter(&logs))}, "logger.level=debug", "logger.format=json")
	ctx := context.Background()
	var tokens []string
	for _, c := range hostile(t, s) {
		tokens = append(tokens, c.token)
		for _, scheme := range []string{"tcp", "http"} {
			peer, err := netron.Dial(ctx, addrs[scheme])
			if err != nil {
				t.Fatal(err)
			}
			_, _ = openVault(bearer(ctx, c.token), peer)
			var res map[string]any
			_ = peer.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: c.token}})
			peer.Close()
		}
	}
	time.Sleep(100 * time.Millisecond)
	all := logs.String()
	if !strings.Contains(all, "refused") {
		t.Fatalf("the refusals were not logged:\n%s", all)
	}
	for _, tok := range tokens {
		if tok == "" {
			continue
		}
		for _, part := range strings.Split(tok, ".") {
			if len(part) > 16 && strings.Contains(all, part) {
				t.Fatalf("a token part is in the logs:\n%s", all)
			}
		}
	}
	keyPEM, _ := os.ReadFile(p.keyFile)
	for _, line := range strings.Split(string(keyPEM), "\n") {
		if len(line) > 16 && strings.Contains(all, line) {
			t.Fatalf("the TLS key is in the logs")
		}
	}
}

// codeOK stands for no error in the tables (netron.CodeOf(nil) is
// unknown).
const codeOK netron.Code = 0

func codeOf(err error) netron.Code {
	if err == nil {
		return codeOK
	}
	return netron.CodeOf(err)
}

// A not_found error lists only what the caller may call: the anonymous
// caller of a method the vault lacks learns of its public method, never
// of the one it needs a role for, on every transport.
func TestNotFoundListsWhatTheCallerMayCall(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, everyTransport(t))
	ctx := context.Background()
	for scheme, addr := range addrs {
		t.Run(scheme, func(t *testing.T) {
			peer := dialAnonymous(t, p, addr)
			_, err := peer.Call(ctx, "vault@1.0.0", "nope")
			if codeOf(err) != netron.CodeNotFound || !strings.Contains(err.Error(), "(it has: ping)") {
				t.Errorf("anonymous call of vault.nope: %v, want not_found listing ping only", err)
			}
		})
	}
	// The HTTP gateway's JSON routes too.
	resp, err := testsrv.HTTPClient.Post(addrs["http"]+"/rpc/vault@1.0.0/nope", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "(it has: ping)") {
		t.Errorf("anonymous POST /rpc/vault@1.0.0/nope: %d %s, want 404 listing ping only", resp.StatusCode, body)
	}
}
