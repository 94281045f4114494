package logger_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/logger"
)

// A key whose last words name a secret is as sensitive as the secret's own
// name: client_secret, db_password, apiToken and X-Api-Key are redacted. A
// key that only starts with such a word (password_hint, tokens_used) names
// something else and is written.
func TestRedactionOfKeysEndingInASensitiveWord(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON, Redact: []string{"ssn"}})
	l.For("users").Info("m",
		"client_secret", "cs-S3CRET", "db_password", "pw-S3CRET", "apiToken", "at-S3CRET",
		"X-Api-Key", "xk-S3CRET", "githubAPIToken", "gh-S3CRET", "oauth2.refresh_token", "rt-S3CRET",
		"user_ssn", "ssn-S3CRET", "sessionCookie", "ck-S3CRET",
		"password_hint", "pet", "tokens_used", 3, "token_count", 4, "author", "ann", "secretary", "sue",
	)
	recs := records(t, buf.Bytes())
	if len(recs) != 1 {
		t.Fatalf("got %d records (%q), want 1", len(recs), buf.String())
	}
	if out := buf.String(); strings.Contains(out, "S3CRET") {
		t.Errorf("output leaks a secret:\n%s", out)
	}
	for key, want := range map[string]any{
		"client_secret": logger.Redacted, "X-Api-Key": logger.Redacted, "user_ssn": logger.Redacted,
		"password_hint": "pet", "tokens_used": float64(3), "token_count": float64(4), "author": "ann", "secretary": "sue",
	} {
		if got := recs[0][key]; got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
}

type dbConfig struct {
	Host     string `json:"host"`
	Password string `json:"password"`
	TLS      *tlsConfig
	Peers    map[string]peerConfig `json:"peers"`
	Replicas []peerConfig          `json:"replicas"`
}

type tlsConfig struct{ Cert, PrivateKey string }

type peerConfig struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// auth is embedded unexported: JSON writes its exported fields as the
// outer struct's.
type auth struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

type service struct {
	auth
	Name string `json:"name"`
}

// masked writes itself: its own output is trusted.
type masked struct{ Password string }

func (masked) MarshalText() ([]byte, error) { return []byte("masked"), nil }

// A struct logged as one attribute is searched as a map is: a field with a
// sensitive name (its Go name or its json name) is redacted, in structs,
// pointers, maps and lists it holds; a type that writes itself (a
// MarshalJSON, MarshalText or Error method) is written as it writes
// itself, and one with a Redacted method (*url.URL) as that writes it.
func TestRedactionInsideStructs(t *testing.T) {
	t.Parallel()
	for _, format := range []string{logger.FormatJSON, logger.FormatText} {
		l, buf := newLogger(t, logger.Config{Format: format})
		cfg := &dbConfig{
			Host: "db.local", Password: "pw-S3CRET",
			TLS:      &tlsConfig{Cert: "cert.pem", PrivateKey: "pk-S3CRET"},
			Peers:    map[string]peerConfig{"a": {URL: "nats://a", Token: "tk-S3CRET"}},
			Replicas: []peerConfig{{URL: "nats://r", Token: "rt-S3CRET"}},
		}
		when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		l.For("db").Info("connect", "db", cfg, "plain", *cfg.TLS, "at", when, "m", masked{Password: "x"},
			"svc", service{auth: auth{User: "ann", Password: "em-S3CRET"}, Name: "billing"},
			"url", &url.URL{Scheme: "nats", User: url.UserPassword("ann", "url-S3CRET"), Host: "nats.local:4222"})
		out := buf.String()
		if strings.Contains(out, "S3CRET") {
			t.Errorf("%s output leaks a secret:\n%s", format, out)
		}
		for _, want := range []string{"db.local", "cert.pem", "nats://a", "nats://r", "2026-01-02", "masked", "billing", "nats://ann:xxxxx@nats.local:4222"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s output lacks %q:\n%s", format, want, out)
			}
		}
		if cfg.Password != "pw-S3CRET" || cfg.TLS.PrivateKey != "pk-S3CRET" || cfg.Peers["a"].Token != "tk-S3CRET" {
			t.Errorf("caller's struct changed: %+v", cfg)
		}
	}
}
