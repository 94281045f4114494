package logger_test

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/logger"
)

// userValue is a LogValuer that expands into a group holding a secret.
type userValue struct{ name, password string }

func (u userValue) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", u.name), slog.String("password", u.password))
}

// lookup follows a dotted path through nested JSON objects.
func lookup(rec map[string]any, path string) (any, bool) {
	var cur any = rec
	for _, key := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		redact []string
		log    func(*slog.Logger)
		want   map[string]any // dotted path -> value
	}{
		{
			name: "top level",
			log:  func(l *slog.Logger) { l.Info("m", "password", "hunter2", "user", "bob") },
			want: map[string]any{"password": logger.Redacted, "user": "bob"},
		},
		{
			name: "every built-in key",
			log: func(l *slog.Logger) {
				var args []any
				for _, k := range logger.BuiltinRedactKeys() {
					args = append(args, k, "v")
				}
				l.Info("m", args...)
			},
			want: func() map[string]any {
				m := map[string]any{}
				for _, k := range logger.BuiltinRedactKeys() {
					m[k] = logger.Redacted
				}
				return m
			}(),
		},
		{
			name: "case-insensitive",
			log:  func(l *slog.Logger) { l.Info("m", "Authorization", "Bearer x", "SECRET", "s", "Set-Cookie", "c") },
			want: map[string]any{"Authorization": logger.Redacted, "SECRET": logger.Redacted, "Set-Cookie": logger.Redacted},
		},
		{
			name: "separators and camel case",
			log: func(l *slog.Logger) {
				l.Info("m", "apiKey", "k", "access-token", "a", "refreshToken", "r", "PRIVATE_KEY", "p")
			},
			want: map[string]any{"apiKey": logger.Redacted, "access-token": logger.Redacted, "refreshToken": logger.Redacted, "PRIVATE_KEY": logger.Redacted},
		},
		{
			name: "exact key only",
			log:  func(l *slog.Logger) { l.Info("m", "password_hint", "pet", "tokens_used", 3, "author", "ann") },
			want: map[string]any{"password_hint": "pet", "tokens_used": float64(3), "author": "ann"},
		},
		{
			name: "inside groups",
			log: func(l *slog.Logger) {
				l.Info("m", slog.Group("db", "host", "h", "password", "p", slog.Group("tls", "private_key", "k", "cert", "c")))
			},
			want: map[string]any{"db.host": "h", "db.password": logger.Redacted, "db.tls.private_key": logger.Redacted, "db.tls.cert": "c"},
		},
		{
			name: "sensitive group key hides the group",
			log:  func(l *slog.Logger) { l.Info("m", slog.Group("credentials", "user", "u", "pass", "p")) },
			want: map[string]any{"credentials": logger.Redacted},
		},
		{
			name: "LogValuer resolved then redacted",
			log:  func(l *slog.Logger) { l.Info("m", "user", userValue{name: "bob", password: "hunter2"}) },
			want: map[string]any{"user.name": "bob", "user.password": logger.Redacted},
		},
		{
			name: "via With",
			log:  func(l *slog.Logger) { l.With("token", "t", "peer", "p1").Info("m") },
			want: map[string]any{"token": logger.Redacted, "peer": "p1"},
		},
		{
			name: "via WithGroup and With",
			log: func(l *slog.Logger) {
				l.WithGroup("req").With("cookie", "c", slog.Group("h", "Authorization", "a")).Info("m", "secret", "s")
			},
			want: map[string]any{"req.cookie": logger.Redacted, "req.h.Authorization": logger.Redacted, "req.secret": logger.Redacted},
		},
		{
			name:   "extra keys",
			redact: []string{"ssn", "X-Session"},
			log:    func(l *slog.Logger) { l.Info("m", "SSN", "123", "x_session", "abc", "password", "p", "name", "n") },
			want:   map[string]any{"SSN": logger.Redacted, "x_session": logger.Redacted, "password": logger.Redacted, "name": "n"},
		},
		{
			name: "inside maps with string keys",
			log: func(l *slog.Logger) {
				l.Info("m",
					"headers", http.Header{"Authorization": {"Bearer x"}, "Accept": {"a"}},
					"env", map[string]string{"API_KEY": "k", "HOME": "h"},
					"nested", map[string]any{"db": map[string]any{"password": "p", "port": 5432}, "name": "n"},
					"plain", map[string]int{"tokens": 3},
				)
			},
			want: map[string]any{
				"headers.Authorization": logger.Redacted, "env.API_KEY": logger.Redacted, "env.HOME": "h",
				"nested.db.password": logger.Redacted, "nested.db.port": float64(5432), "nested.name": "n", "plain.tokens": float64(3),
			},
		},
		{
			name: "maps in maps, and too deep to search",
			log: func(l *slog.Logger) {
				cycle := map[string]any{"secret": "s"}
				cycle["self"] = cycle
				l.Info("m", "cycle", cycle, "loop", map[string]any{"inner": map[string]any{"token": "t"}}, "deep", func() map[string]any {
					d := map[string]any{"token": "t"}
					for range 20 {
						d = map[string]any{"d": d}
					}
					return d
				}())
			},
			want: map[string]any{
				"cycle.secret": logger.Redacted, "cycle.self.self.secret": logger.Redacted,
				"loop.inner.token": logger.Redacted, "deep.d.d.d.d.d.d.d.d.d": logger.Redacted,
			},
		},
		{
			name: "extra keys absent",
			log:  func(l *slog.Logger) { l.Info("m", "ssn", "123") },
			want: map[string]any{"ssn": "123"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON, Redact: tt.redact})
			tt.log(l.For("netron"))
			recs := records(t, buf.Bytes())
			if len(recs) != 1 {
				t.Fatalf("got %d records (%q), want 1", len(recs), buf.String())
			}
			for path, want := range tt.want {
				if got, ok := lookup(recs[0], path); !ok || got != want {
					t.Errorf("%s = %v (present %v), want %v; record %s", path, got, ok, want, buf.String())
				}
			}
		})
	}
}

func TestRedactionText(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t, logger.Config{Format: logger.FormatText})
	l.For("netron").With("token", "abc123").Info("login", slog.Group("user", "password", "hunter2"))
	out := buf.String()
	for _, leak := range []string{"abc123", "hunter2"} {
		if strings.Contains(out, leak) {
			t.Errorf("output %q leaks %q", out, leak)
		}
	}
	for _, want := range []string{"token=[REDACTED]", "user.password=[REDACTED]", "module=netron"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}

func TestRedactionDoesNotChangeCallerValues(t *testing.T) {
	t.Parallel()
	l, _ := newLogger(t, logger.Config{Format: logger.FormatJSON})
	group := slog.Group("db", "password", "p")
	attrs := []slog.Attr{slog.String("secret", "s"), group}
	l.Root().LogAttrs(t.Context(), slog.LevelInfo, "m", attrs...)
	if attrs[0].Value.String() != "s" || group.Value.Group()[0].Value.String() != "p" {
		t.Errorf("caller's attrs changed to %v", attrs)
	}
}

// A map logged with a sensitive key is written redacted, and the caller's
// map is left as it was.
func TestRedactionOfMapsDoesNotChangeThem(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t, logger.Config{Format: logger.FormatText})
	h := http.Header{"Authorization": {"Bearer x"}, "Accept": {"a"}}
	l.For("http").Info("request", "headers", h)
	if out := buf.String(); strings.Contains(out, "Bearer x") || !strings.Contains(out, "Accept:[a]") {
		t.Errorf("output %q: want Authorization hidden and Accept shown", out)
	}
	if got := h.Values("Authorization"); !slices.Equal(got, []string{"Bearer x"}) {
		t.Errorf("caller's header changed to %v", got)
	}
}

func TestApplyChangesRedactionLive(t *testing.T) {
	t.Parallel()
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON})
	log := l.For("users").With("ssn", "123-45")

	log.Info("before")
	if err := l.Apply(logger.Config{Format: logger.FormatJSON, Redact: []string{"ssn"}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	log.Info("after", "SSN", "678-90")

	recs := records(t, buf.Bytes())
	if len(recs) != 2 {
		t.Fatalf("got %d records (%q), want 2", len(recs), buf.String())
	}
	if recs[0]["ssn"] != "123-45" {
		t.Errorf("before Apply: ssn = %v, want 123-45", recs[0]["ssn"])
	}
	if recs[1]["ssn"] != logger.Redacted || recs[1]["SSN"] != logger.Redacted {
		t.Errorf("after Apply: record %v, want ssn and SSN redacted", recs[1])
	}
}
