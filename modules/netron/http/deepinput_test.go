package http_test

import (
	"strings"
	"testing"
)

// An argument nested deeper than the gateway reads (128 arrays and
// objects, protocol.DefaultMaxDepth) is refused with a message that says
// which argument and the limit an argument has, on every route: not the
// depth of the argument list around it, nor a package's wording.
func TestDeepArgumentNamesItAndTheLimit(t *testing.T) {
	s := startServer(t, "")
	c := client(t)
	deep := strings.Repeat("[", 129) + strings.Repeat("]", 129)
	invoke := func(input string) string {
		return `{"id":"d","service":"calculator@1.0.0","method":"summarize","input":` + input + `}`
	}
	batch := func(input string) string {
		return `{"id":"b","requests":[` + invoke(input) + `]}`
	}
	for _, tc := range []struct{ name, path, body, want string }{
		{"route, first", "/api/calculator/summarize", "[" + deep + "]", "Invalid input: argument 1: more than 128 nested arrays and objects"},
		{"route, second", "/api/calculator/add", "[1," + deep + "]", "Invalid input: argument 2: more than 128 nested arrays and objects"},
		{"invoke, in a list", "/netron/invoke", invoke(`[1,{"a":` + deep + `}]`), "Invalid input: argument 2: more than 128 nested arrays and objects"},
		{"invoke, alone", "/netron/invoke", invoke(`{"a":` + deep + `}`), "Invalid input: argument 1: more than 128 nested arrays and objects"},
		{"batch", "/netron/batch", batch("[" + deep + "]"), "Invalid input: argument 1: more than 128 nested arrays and objects"},
	} {
		r := post(t, c, s.addr+tc.path, tc.body)
		if !strings.Contains(string(r.body), `"message":"`+tc.want+`"`) {
			t.Errorf("%s: %d %s, want the message %q", tc.name, r.status, r.body, tc.want)
		}
	}
}
