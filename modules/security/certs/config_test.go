package certs_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/security/certs"
)

// TestValidate checks that each bad configuration is refused by Validate
// and New with an error naming the key, and the file and what is wrong
// with it when a file is at fault.
func TestValidate(t *testing.T) {
	t.Parallel()
	ca, other := newCA(t, "titan CA"), newCA(t, "other CA")
	good := ca.issue(t, "server")
	p := writeFiles(t, good, ca.pem)
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		write(t, path, data)
		return path
	}
	otherKey := file("other-key.pem", other.issue(t, "x").keyPEM)
	truncatedKey := file("truncated-key.pem", good.keyPEM[:len(good.keyPEM)-40])
	missing := filepath.Join(dir, "missing.pem")

	for _, tc := range []struct {
		name string
		cfg  certs.Config
		key  string   // the key the error names; "" for a valid config
		says []string // what the error says besides
	}{
		{"zero: TLS off", certs.Config{}, "", nil},
		{"server", certs.Config{Cert: p.cert, Key: p.key}, "", nil},
		{"mtls", certs.Config{Cert: p.cert, Key: p.key, CA: p.ca, MTLS: true, Identity: "san"}, "", nil},
		{"client of a CA", certs.Config{CA: p.ca, ServerName: "orders.internal"}, "", nil},
		{"cert without key", certs.Config{Cert: p.cert}, "security.tls.key", []string{"required"}},
		{"key without cert", certs.Config{Key: p.key}, "security.tls.cert", []string{"required"}},
		{"mtls without ca", certs.Config{Cert: p.cert, Key: p.key, MTLS: true}, "security.tls.ca", []string{"required"}},
		{"mtls without cert", certs.Config{CA: p.ca, MTLS: true}, "security.tls.mtls", []string{"security.tls.cert"}},
		{"unknown identity", certs.Config{Cert: p.cert, Key: p.key, CA: p.ca, MTLS: true, Identity: "cn"}, "security.tls.identity", []string{`"cn"`, "subject or san"}},
		{"identity without mtls", certs.Config{Cert: p.cert, Key: p.key, Identity: "subject"}, "security.tls.identity", []string{"security.tls.mtls"}},
		{"negative reload", certs.Config{Cert: p.cert, Key: p.key, Reload: -time.Second}, "security.tls.reload", []string{"-1s"}},
		{"missing cert file", certs.Config{Cert: missing, Key: p.key}, "security.tls.cert", []string{missing, "no such file"}},
		{"missing ca file", certs.Config{CA: missing}, "security.tls.ca", []string{missing, "no such file"}},
		{"cert file not PEM", certs.Config{Cert: file("garbage.pem", []byte("not a certificate\n")), Key: p.key}, "security.tls.cert", []string{"garbage.pem", "no CERTIFICATE PEM block"}},
		{"cert file holds a key", certs.Config{Cert: p.key, Key: p.key}, "security.tls.cert", []string{p.key, `PEM block 1 is "PRIVATE KEY", want CERTIFICATE`}},
		{"cert file cut short", certs.Config{Cert: file("cut.pem", good.certPEM[:len(good.certPEM)/2]), Key: p.key}, "security.tls.cert", []string{"cut.pem", "PEM block 1 is incomplete"}},
		{"cert block not DER", certs.Config{Cert: file("bad-der.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")), Key: p.key}, "security.tls.cert", []string{"bad-der.pem", "PEM block 1: x509:"}},
		{"key file holds a certificate", certs.Config{Cert: p.cert, Key: p.cert}, "security.tls.key", []string{p.cert, "no PRIVATE KEY PEM block"}},
		{"key file cut short", certs.Config{Cert: p.cert, Key: truncatedKey}, "security.tls.key", []string{truncatedKey, "incomplete"}},
		{"key of another certificate", certs.Config{Cert: p.cert, Key: otherKey}, "security.tls.key", []string{otherKey, "does not match the certificate in " + p.cert}},
		{"ca file not PEM", certs.Config{CA: file("ca-garbage.pem", []byte{0, 1, 2})}, "security.tls.ca", []string{"ca-garbage.pem", "no CERTIFICATE PEM block"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			_, newErr := certs.New(tc.cfg)
			if tc.key == "" {
				if err != nil || newErr != nil {
					t.Fatalf("Validate: %v; New: %v; want no error", err, newErr)
				}
				return
			}
			if err == nil || newErr == nil {
				t.Fatalf("Validate: %v; New: %v; want both to fail", err, newErr)
			}
			if err.Error() != newErr.Error() {
				t.Errorf("Validate says %q, New %q", err, newErr)
			}
			var fe *certs.FieldError
			if !errors.As(err, &fe) || fe.Key != tc.key {
				t.Errorf("error %q: want a *certs.FieldError for %s", err, tc.key)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.key+": ") {
				t.Errorf("error %q does not start with %q", msg, tc.key+": ")
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not say %q", msg, s)
				}
			}
			if strings.Contains(msg, strings.Split(string(good.keyPEM), "\n")[1][:16]) {
				t.Errorf("error %q quotes the key", msg)
			}
			t.Log(msg)
		})
	}
}

// TestValidateReportsEveryProblem checks that problems are not reported
// one at a time.
func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	err := certs.Config{Cert: "c.pem", MTLS: true, Identity: "cn", Reload: -1}.Validate()
	for _, key := range []string{"security.tls.key", "security.tls.ca", "security.tls.identity", "security.tls.reload"} {
		if err == nil || !strings.Contains(err.Error(), key+": ") {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

// TestEnabled checks that a certificate needs both files.
func TestEnabled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  certs.Config
		want bool
	}{
		{certs.Config{}, false},
		{certs.Config{Cert: "c.pem"}, false},
		{certs.Config{Key: "k.pem"}, false},
		{certs.Config{CA: "ca.pem", MTLS: true}, false},
		{certs.Config{Cert: "c.pem", Key: "k.pem"}, true},
	} {
		if got := tc.cfg.Enabled(); got != tc.want {
			t.Errorf("%+v.Enabled() = %v, want %v", tc.cfg, got, tc.want)
		}
	}
}

// TestKeyFormats checks that PKCS #1, SEC 1 and PKCS #8 keys (ECDSA, RSA,
// Ed25519) load, and that an encrypted key is refused clearly.
func TestKeyFormats(t *testing.T) {
	t.Parallel()
	ca := newCA(t, "titan CA")
	ecKey := newKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		key   crypto.Signer
		block *pem.Block // the key file; nil: the PKCS #8 of issueKey
		fails string     // what the error says; "" if the key loads
	}{
		{"PKCS #8 ECDSA", ecKey, nil, ""},
		{"PKCS #8 RSA", rsaKey, nil, ""},
		{"PKCS #8 Ed25519", edKey, nil, ""},
		{"SEC 1", ecKey, &pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}, ""},
		{"PKCS #1", rsaKey, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}, ""},
		{"EC PARAMETERS first", ecKey, nil, ""},
		{"legacy encrypted", ecKey, &pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: []byte{1, 2, 3}}, "encrypted"},
		{"PKCS #8 encrypted", ecKey, &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}, "encrypted"},
		{"damaged", ecKey, &pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}, "PEM block 1 (PRIVATE KEY)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := ca.issueKey(t, "server", tc.key)
			if tc.block != nil {
				l.keyPEM = pem.EncodeToMemory(tc.block)
			}
			if tc.name == "EC PARAMETERS first" {
				l.keyPEM = append(pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}), l.keyPEM...)
			}
			p := writeFiles(t, l, nil)
			err := certs.Config{Cert: p.cert, Key: p.key}.Validate()
			switch {
			case tc.fails == "" && err != nil:
				t.Fatal(err)
			case tc.fails != "" && (err == nil || !strings.Contains(err.Error(), tc.fails) || !strings.HasPrefix(err.Error(), "security.tls.key: "+p.key)):
				t.Fatalf("error %v, want security.tls.key: %s: ... %s", err, p.key, tc.fails)
			}
		})
	}
}
