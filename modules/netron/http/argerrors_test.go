package http_test

import (
	"context"
	"testing"

	httptransport "github.com/titanframework/titan/modules/netron/http"

	"github.com/titanframework/titan/modules/netron"
)

// Signup has a field with a format.
type Signup struct {
	Email string `json:"email" jsonschema:"format=email"`
}

// Accounts takes a struct with a format, and names its arguments.
type Accounts struct{}

func (Accounts) Join(_ context.Context, s Signup) (string, error) { return s.Email, nil }

func (Accounts) Grant(_ context.Context, user string, level int) (string, error) {
	return user, nil
}

// Through the HTTP gateway, as over the binary wire, argument errors name
// the argument and say what was wanted and what was got; a value that
// does not match its field's format is refused naming the field (issue
// 12, items 9 and 13).
func TestArgumentErrorsOverHTTP(t *testing.T) {
	s := startServer(t, "")
	if err := s.n.Register("accounts", "1.0.0", Accounts{}, httptransport.Path("/api/accounts"),
		netron.WithMethod("grant", netron.WithArgs("user", "level"))); err != nil {
		t.Fatal(err)
	}
	c := client(t)
	for _, tt := range []struct {
		name, path, body string
		message          string
		paths            []any
	}{
		{"count on a route", "/api/calculator/add", "[1,2,3]",
			"calculator@1.0.0.add takes 2 arguments (number, number), got 3", []any{"/"}},
		{"count on invoke", "/netron/invoke", `{"id":"a","service":"calculator@1.0.0","method":"add","input":[1]}`,
			"calculator@1.0.0.add takes 2 arguments (number, number), got 1", []any{"/"}},
		{"scalar on a route", "/api/calculator/add", `["x",1]`,
			"calculator@1.0.0.add: argument 1: want a number, got a string", []any{"/0"}},
		{"scalar on invoke", "/netron/invoke", `{"id":"b","service":"calculator@1.0.0","method":"add","input":[1,true]}`,
			"calculator@1.0.0.add: argument 2: want a number, got a boolean", []any{"/1"}},
		{"named argument", "/api/accounts/grant", `["ada","high"]`,
			"accounts@1.0.0.grant: argument 2 (level): want an integer, got a string", []any{"/1"}},
		{"named count", "/api/accounts/grant", `["ada"]`,
			"accounts@1.0.0.grant takes 2 arguments (user: string, level: integer), got 1", []any{"/"}},
		{"format on a route (the object is the argument)", "/api/accounts/join", `{"email":"not-an-email"}`,
			`accounts@1.0.0.join: argument 1 at /email: want an email address, got "not-an-email" (missing @)`, []any{"/0/email"}},
		{"format on invoke", "/netron/invoke", `{"id":"c","service":"accounts@1.0.0","method":"join","input":[{"email":"not-an-email"}]}`,
			`accounts@1.0.0.join: argument 1 at /email: want an email address, got "not-an-email" (missing @)`, []any{"/0/email"}},
	} {
		r := post(t, c, s.addr+tt.path, tt.body)
		if r.status != 400 || r.header.Get("X-Titan-Code") != "invalid_argument" {
			t.Errorf("%s: %d %s %s, want 400 invalid_argument", tt.name, r.status, r.header.Get("X-Titan-Code"), r.body)
			continue
		}
		e := errorOf(t, r)
		if e["message"] != tt.message {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, e["message"], tt.message)
		}
		details, _ := e["details"].(map[string]any)
		vs, _ := details["violations"].([]any)
		var paths []any
		for _, v := range vs {
			paths = append(paths, v.(map[string]any)["path"])
		}
		if len(paths) != len(tt.paths) || (len(paths) > 0 && paths[0] != tt.paths[0]) {
			t.Errorf("%s: details paths %v, want %v", tt.name, paths, tt.paths)
		}
	}
	r := post(t, c, s.addr+"/api/accounts/join", `{"email":"ada@example.com"}`)
	if r.status != 200 || string(r.body) != `"ada@example.com"` {
		t.Fatalf("valid email: %d %s", r.status, r.body)
	}
}
