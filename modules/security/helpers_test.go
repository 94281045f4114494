package security_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/security"
)

// Vault is the protected service of the tests: open needs the role
// admin, ping is public.
type Vault struct{}

func (Vault) Open(ctx context.Context, name string) (string, error) {
	id := security.FromContext(ctx)
	if id == nil {
		return "", nil
	}
	return "opened " + name + " for " + id.Subject, nil
}

func (Vault) Ping(context.Context) (string, error) { return "pong", nil }

func vaultService() titan.Option {
	return titan.Service("vault", "1.0.0", func() Vault { return Vault{} },
		titan.Auth(titan.Roles("admin")), titan.Method("ping", titan.Public()))
}

// pki is a CA and certificates it signed, in files.
type pki struct {
	dir      string
	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
	caFile   string
	certFile string // server certificate for 127.0.0.1 / localhost
	keyFile  string
	pool     *x509.CertPool
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &pki{dir: dir, ca: ca, caKey: key, caFile: filepath.Join(dir, "ca.pem"), pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", der)
	p.certFile, p.keyFile = p.issue(t, "server", "localhost", false)
	return p
}

// issue writes a certificate for cn (server or client) and its key.
func (p *pki) issue(t *testing.T, file, cn string, client bool) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		tmpl.DNSNames, tmpl.IPAddresses = nil, nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(p.dir, file+".pem"), filepath.Join(p.dir, file+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", kd)
	return certFile, keyFile
}

// clientTLS is a client configuration that trusts the CA, with the
// client certificate of files when given.
func (p *pki) clientTLS(t *testing.T, certFile, keyFile string) *tls.Config {
	t.Helper()
	c := &tls.Config{RootCAs: p.pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// signer mints test tokens with an RSA key whose public half the app
// trusts (security.jwt.publicKeyFile).
type signer struct {
	key     *rsa.PrivateKey
	pubFile string
	pubPEM  []byte
}

func newSigner(t *testing.T) *signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	s := &signer{key: key, pubFile: filepath.Join(t.TempDir(), "jwt.pub.pem")}
	s.pubPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	if err := os.WriteFile(s.pubFile, s.pubPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	testIssuer   = "titan-test"
	testAudience = "vault-clients"
)

// claims are valid claims for sub with roles, changed by edit.
func claims(sub string, roles []string, edit func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub": sub, "iss": testIssuer, "aud": testAudience,
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if roles != nil {
		r := make([]any, len(roles))
		for i, x := range roles {
			r[i] = x
		}
		c["roles"] = r
	}
	if edit != nil {
		edit(c)
	}
	return c
}

func (s *signer) token(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
