package http_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// TestNonFiniteNumbers: JSON has no NaN or Infinity. A result that is not finite (1e308 +
// 1e308), alone or in a struct, is an internal error logged with the reason, not 200 null; a
// number in the input beyond the float64 range (1e400) is invalid_argument naming the
// argument, not +Inf. On the JSON routes and on /netron/invoke alike.
func TestNonFiniteNumbers(t *testing.T) {
	var logs testsrv.LogBuffer
	n, err := netron.New(netron.Config{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(t.Context()) })
	if err := n.Register("calculator", "1.0.0", &Calculator{}, netron.WithHTTP("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	g, err := httptransport.Listen(t.Context(), n, "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Shutdown(t.Context()) })
	addr := g.Addr()
	c := client(t)
	invoke := func(method, input string) string {
		return `{"id":"x","service":"calculator@1.0.0","method":"` + method + `","input":` + input + `}`
	}
	for _, tc := range []struct {
		name, path, body string
		status           int
		goCode, message  string
	}{
		{"infinite result", "/api/calculator/add", "[1e308,1e308]", 500, "internal", "internal error"},
		{"infinite result invoke", "/netron/invoke", invoke("add", "[1e308,1e308]"), 500, "internal", "internal error"},
		// The contract check of the result may refuse it first.
		{"infinite field", "/api/calculator/summarize", "[[1e308,1e308]]", 500, "internal", ""},
		{"infinite field invoke", "/netron/invoke", invoke("summarize", "[[1e308,1e308]]"), 500, "internal", ""},
		{"huge first argument", "/api/calculator/add", "[1e400,1]", 400, "invalid_argument", "Invalid input: argument 1: number 1e400 is out of range"},
		{"huge second argument", "/api/calculator/add", "[1, -1e400]", 400, "invalid_argument", "Invalid input: argument 2: number -1e400 is out of range"},
		{"huge in a list", "/api/calculator/summarize", "[[1,2,3e999]]", 400, "invalid_argument", "Invalid input: argument 1: number 3e999 is out of range"},
		{"huge argument invoke", "/netron/invoke", invoke("add", `[1, {"x":1}, 1e400]`), 400, "invalid_argument", "Invalid input: argument 3: number 1e400 is out of range"},
		{"tiny is zero", "/api/calculator/add", "[1e-400,1]", 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, c, addr+tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d %s, want %d", r.status, r.body, tc.status)
			}
			if tc.status == 200 {
				return
			}
			e := errorOf(t, r)
			if got := r.header.Get("X-Titan-Code"); got != tc.goCode || !strings.HasPrefix(e["message"].(string), tc.message) {
				t.Fatalf("%s %v, want %s %q…", got, e, tc.goCode, tc.message)
			}
		})
	}
	if !strings.Contains(logs.String(), "non-finite number has no JSON form") {
		t.Errorf("the log does not say why the results failed:\n%s", logs.String())
	}
}
