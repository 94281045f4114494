package cli_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/transport/tcp"
	"github.com/titanframework/titan/modules/security"
	"github.com/titanframework/titan/modules/security/jwtauth"
)

// testSecret is the HMAC secret of the tests' configurations (32 bytes).
const testSecret = "0123456789abcdef0123456789abcdef"

// isolate runs the test in an empty working directory without TITAN_*
// variables, so that no titan.yaml or variable of the machine leaks in.
func isolate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TITAN_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	return dir
}

// writeFile writes body to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mint runs titan token with args, expects success and returns the token
// (stdout's one line) and stderr.
func mint(t *testing.T, args ...string) (token, stderr string) {
	t.Helper()
	code, out, errOut := run(t, append([]string{"token"}, args...)...)
	if code != 0 {
		t.Fatalf("titan token %q: exit %d, stderr %q", args, code, errOut)
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout %q: want the token alone on one line", out)
	}
	token = strings.TrimSuffix(out, "\n")
	if strings.Count(token, ".") != 2 {
		t.Fatalf("stdout %q is not a JWT", out)
	}
	if strings.Contains(errOut, token) {
		t.Errorf("stderr holds the token: %q", errOut)
	}
	return token, errOut
}

// verify checks token with a verifier of cfg.
func verify(t *testing.T, cfg jwtauth.Config, token string) *jwtauth.Claims {
	t.Helper()
	v, err := jwtauth.NewVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	claims, err := v.Verify(token)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return claims
}

// algorithm returns the alg of token's header.
func algorithm(t *testing.T, token string) string {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg
}

// expiresIn checks that claims expire ttl from now, give or take a few
// seconds.
func expiresIn(t *testing.T, claims *jwtauth.Claims, ttl time.Duration) {
	t.Helper()
	if d := time.Until(claims.ExpiresAt) - ttl; d > 5*time.Second || d < -5*time.Second {
		t.Errorf("exp %v: want about now + %v", claims.ExpiresAt, ttl)
	}
}

func TestTokenFromConfig(t *testing.T) {
	dir := isolate(t)
	conf := writeFile(t, dir, "app.yaml", "security:\n  jwt:\n    secret: "+testSecret+
		"\n    issuer: https://issuer.test\n    audience: vault\n    rolesClaim: realm.roles\n")
	cfg := jwtauth.Config{Secret: testSecret, Issuer: "https://issuer.test", Audience: "vault", RolesClaim: "realm.roles"}

	token, errOut := mint(t, "--config", conf, "--sub", "alice", "--roles", "admin, ops", "--roles", "audit",
		"--permissions", "vault:open", "--ttl", "30m")
	if errOut != "" {
		t.Errorf("stderr %q, want nothing", errOut)
	}
	claims := verify(t, cfg, token)
	if claims.Subject != "alice" || !slices.Equal(claims.Roles, []string{"admin", "ops", "audit"}) ||
		!slices.Equal(claims.Permissions, []string{"vault:open"}) {
		t.Errorf("claims sub %q, roles %q, permissions %q", claims.Subject, claims.Roles, claims.Permissions)
	}
	if claims.Issuer != cfg.Issuer || !slices.Equal(claims.Audience, []string{"vault"}) {
		t.Errorf("iss %q, aud %q: want the configuration's", claims.Issuer, claims.Audience)
	}
	if algorithm(t, token) != "HS256" {
		t.Errorf("alg %s, want HS256", algorithm(t, token))
	}
	expiresIn(t, claims, 30*time.Minute)
	if claims.Raw["permissions"] == nil || claims.Raw["realm"] == nil {
		t.Errorf("claims %v: want permissions and realm.roles", claims.Raw)
	}

	// The default file of the working directory is read too, and the
	// flags override issuer and audience; the default ttl is an hour.
	if err := os.Rename(conf, filepath.Join(dir, "titan.yaml")); err != nil {
		t.Fatal(err)
	}
	token, _ = mint(t, "--sub", "bob", "--issuer", "cli", "--audience", "other")
	cfg.Issuer, cfg.Audience = "cli", "other"
	claims = verify(t, cfg, token)
	if claims.Subject != "bob" || claims.Roles != nil || claims.Permissions != nil {
		t.Errorf("claims sub %q, roles %q, permissions %q", claims.Subject, claims.Roles, claims.Permissions)
	}
	expiresIn(t, claims, time.Hour)

	// So are the TITAN_* variables.
	t.Setenv("TITAN_SECURITY__JWT__ISSUER", "from-env")
	token, _ = mint(t, "--sub", "carol")
	cfg.Issuer, cfg.Audience = "from-env", "vault"
	verify(t, cfg, token)
}

func TestTokenSecretFileAndPrivateKeyFromConfig(t *testing.T) {
	dir := isolate(t)
	secretFile := writeFile(t, dir, "secret.txt", testSecret+"\n")
	conf := writeFile(t, dir, "a.yaml", "security:\n  jwt:\n    secretFile: "+secretFile+"\n")
	token, _ := mint(t, "--config", conf, "--sub", "alice")
	verify(t, jwtauth.Config{Secret: testSecret}, token)

	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	keyFile, pubFile := writeKey(t, dir, key)
	conf = writeFile(t, dir, "b.yaml", "security:\n  jwt:\n    privateKeyFile: "+keyFile+"\n")
	token, _ = mint(t, "--config", conf, "--sub", "alice")
	if alg := algorithm(t, token); alg != "ES384" {
		t.Errorf("alg %s, want ES384", alg)
	}
	verify(t, jwtauth.Config{PublicKeyFile: pubFile}, token)
}

// writeKey writes key (PKCS #8) and its public half (PKIX) as PEM files.
func writeKey(t *testing.T, dir string, key crypto.Signer) (keyFile, pubFile string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	keyFile = writeFile(t, dir, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	pubFile = writeFile(t, dir, "pub.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
	return keyFile, pubFile
}

func TestTokenKeyFile(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	dir := isolate(t)
	// The configuration's secret and algorithms give way to --key; its
	// issuer stays.
	writeFile(t, dir, "titan.yaml", "security:\n  jwt:\n    secret: "+testSecret+"\n    algorithms: [HS256]\n    issuer: iss\n")
	for _, tt := range []struct {
		alg string
		key crypto.Signer
	}{
		{"ES256", ecKey},
		{"RS256", rsaKey},
		{"EdDSA", edKey},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			keyFile, pubFile := writeKey(t, t.TempDir(), tt.key)
			token, errOut := mint(t, "--sub", "alice", "--roles", "admin", "--key", keyFile)
			if errOut != "" {
				t.Errorf("stderr %q, want nothing", errOut)
			}
			if alg := algorithm(t, token); alg != tt.alg {
				t.Errorf("alg %s, want %s", alg, tt.alg)
			}
			claims := verify(t, jwtauth.Config{PublicKeyFile: pubFile, Issuer: "iss"}, token)
			if claims.Subject != "alice" || !slices.Equal(claims.Roles, []string{"admin"}) {
				t.Errorf("claims sub %q, roles %q", claims.Subject, claims.Roles)
			}
		})
	}

	t.Run("secret", func(t *testing.T) {
		secret := writeFile(t, t.TempDir(), "secret", "another-secret-of-at-least-32-bytes\n")
		token, _ := mint(t, "--sub", "alice", "--key", secret)
		if alg := algorithm(t, token); alg != "HS256" {
			t.Errorf("alg %s, want HS256", alg)
		}
		verify(t, jwtauth.Config{Secret: "another-secret-of-at-least-32-bytes", Issuer: "iss"}, token)
	})
}

func TestTokenNewSecret(t *testing.T) {
	isolate(t)
	code, out, errOut := run(t, "token", "--sub", "alice", "--roles", "admin")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	token := lines[len(lines)-1]
	var secret string
	for _, l := range strings.Split(errOut, "\n") {
		if s, ok := strings.CutPrefix(l, "secret: "); ok {
			secret = s
		}
	}
	if len(secret) != 43 || !strings.Contains(errOut, "security.jwt.secret") {
		t.Fatalf("stderr %q: want the secret and how to configure it", errOut)
	}
	if strings.Contains(out, secret) {
		t.Errorf("stdout %q holds the secret", out)
	}
	if strings.Contains(errOut, token) {
		t.Errorf("stderr %q holds the token", errOut)
	}
	claims := verify(t, jwtauth.Config{Secret: secret, Algorithms: []string{"HS256"}}, token)
	if claims.Subject != "alice" || !slices.Equal(claims.Roles, []string{"admin"}) {
		t.Errorf("claims sub %q, roles %q", claims.Subject, claims.Roles)
	}
	expiresIn(t, claims, time.Hour)

	// Each run makes a secret of its own.
	_, errOut2 := mint(t, "--sub", "alice")
	if strings.Contains(errOut2, secret) {
		t.Errorf("a second run reused the secret")
	}
}

func TestTokenErrors(t *testing.T) {
	dir := isolate(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, pubFile := writeKey(t, dir, key)
	short := writeFile(t, dir, "short", "tooshort\n")
	verifyOnly := writeFile(t, dir, "verify.yaml", "security:\n  jwt:\n    publicKeyFile: "+pubFile+"\n")
	badSecret := writeFile(t, dir, "bad.yaml", "security:\n  jwt:\n    secret: tooshort\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"no sub", []string{"--roles", "admin"}, 2, []string{"titan: --sub is required", "Run 'titan token --help'"}},
		{"blank sub", []string{"--sub", " "}, 2, []string{"--sub is required"}},
		{"zero ttl", []string{"--sub", "a", "--ttl", "0"}, 2, []string{"--ttl 0s: must be positive", "Run 'titan token --help'"}},
		{"negative ttl", []string{"--sub", "a", "--ttl", "-1m"}, 2, []string{"--ttl -1m0s: must be positive"}},
		{"bad ttl", []string{"--sub", "a", "--ttl", "soon"}, 2, []string{"--ttl"}},
		{"empty role", []string{"--sub", "a", "--roles", "admin,,ops"}, 2, []string{"--roles: a name is empty"}},
		{"argument", []string{"--sub", "a", "extra"}, 2, []string{"unknown command"}},
		{"missing key file", []string{"--sub", "a", "--key", filepath.Join(dir, "nope.pem")}, 1, []string{"--key: ", "nope.pem"}},
		{"public key", []string{"--sub", "a", "--key", pubFile}, 1, []string{"titan: --key: ", "not a private key"}},
		{"short secret", []string{"--sub", "a", "--key", short}, 1, []string{"titan: --key: an HS256 secret must be at least 32 bytes"}},
		{"missing config", []string{"--sub", "a", "--config", filepath.Join(dir, "nope.yaml")}, 1, []string{"nope.yaml"}},
		{"verify-only config", []string{"--sub", "a", "--config", verifyOnly}, 1, []string{"publicKeyFile or jwksURL", "--key"}},
		{"bad config secret", []string{"--sub", "a", "--config", badSecret}, 1, []string{"security.jwt.secret: an HS256 secret must be at least 32 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"token"}, tt.args...)...)
			if code != tt.code || out != "" {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tt.code, out, errOut)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q lacks %q", errOut, want)
				}
			}
			if strings.Contains(errOut, "tooshort") {
				t.Errorf("stderr %q holds the secret", errOut)
			}
		})
	}
}

// Vault is the protected service of the token tests: open needs the role
// admin.
type Vault struct{}

func (Vault) Open(ctx context.Context, name string) (string, error) {
	id := security.FromContext(ctx)
	if id == nil {
		return "", netron.Errorf(netron.CodeInternal, "no identity")
	}
	return "opened " + name + " for " + id.Subject, nil
}

// serveVault starts a Netron whose vault@1.0.0 needs a token of
// security.jwt cfg with the role admin, on tcp, and returns its address.
func serveVault(t *testing.T, cfg jwtauth.Config) string {
	t.Helper()
	g, err := security.New(context.Background(), security.Config{JWT: cfg}, security.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	n, err := netron.New(netron.Config{}, nil, append(g.Options(), netron.WithInterceptors(g))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("vault", "1.0.0", Vault{}, titan.Auth(titan.Roles("admin"))); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return addr
}

func TestCallWithMintedToken(t *testing.T) {
	dir := isolate(t)
	t.Setenv("TITAN_TOKEN", "")
	conf := writeFile(t, dir, "titan.yaml", "security:\n  jwt:\n    secret: "+testSecret+"\n    algorithms: [HS256]\n")
	addr := serveVault(t, jwtauth.Config{Secret: testSecret, Algorithms: []string{"HS256"}})
	admin, _ := mint(t, "--config", conf, "--sub", "alice", "--roles", "admin")
	guest, _ := mint(t, "--config", conf, "--sub", "bob", "--roles", "guest")
	// A token of a secret of its own, as titan token makes without a key.
	forged, errOut := mint(t, "--sub", "mallory", "--roles", "admin", "--config", writeFile(t, dir, "empty.yaml", "{}\n"))
	if !strings.Contains(errOut, "secret: ") {
		t.Fatalf("stderr %q: want a new secret", errOut)
	}

	tests := []struct {
		name   string
		args   []string
		env    string // $TITAN_TOKEN
		code   int
		stdout string
		stderr string
	}{
		{name: "token", args: []string{"--token", admin}, stdout: `"opened x for alice"` + "\n"},
		{name: "TITAN_TOKEN", env: admin, stdout: `"opened x for alice"` + "\n"},
		// The server shows a caller only what it may call: without a
		// token, or with one that lacks the role, vault does not exist.
		{name: "no token", code: 1, stderr: `titan: not_found: no service matches "vault@1.0.0" (the server has no services); ` +
			"a server that needs a token shows nothing to callers without one: pass --token or set $TITAN_TOKEN (titan token mints one)\n"},
		{name: "no role", args: []string{"--token", guest}, code: 1, stderr: `titan: not_found: no service matches "vault@1.0.0" (the server has no services); ` +
			"a server that checks tokens shows only what the token lets its bearer call\n"},
		{name: "other secret", args: []string{"--token", forged}, code: 1, stderr: "titan: unauthenticated: "},
		{name: "bad signature", args: []string{"--token", admin[:len(admin)-4] + "AAAA"}, code: 1, stderr: "titan: unauthenticated: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("TITAN_TOKEN", tt.env)
			args := append([]string{"call"}, tt.args...)
			code, out, errOut := run(t, append(args, addr, "vault@1.0.0", "open", `"x"`)...)
			if code != tt.code || out != tt.stdout || !strings.HasPrefix(errOut, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr starting %q",
					code, out, errOut, tt.code, tt.stdout, tt.stderr)
			}
			if tt.code != 0 && strings.Contains(errOut, admin) {
				t.Errorf("stderr %q holds the token", errOut)
			}
		})
	}
}
