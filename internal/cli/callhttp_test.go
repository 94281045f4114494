package cli_test

import (
	"context"
	"iter"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/http"
)

type httpCalc struct{}

func (httpCalc) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }
func (httpCalc) Div(_ context.Context, a, b float64) (float64, error) {
	if b == 0 {
		return 0, netron.Errorf(netron.CodeInvalidArgument, "division by zero")
	}
	return a / b, nil
}
func (httpCalc) Count(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

func TestCallOverHTTP(t *testing.T) {
	ctx := context.Background()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	if err := n.Register("calculator", "1.0.0", httpCalc{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(ctx, "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, "call", addr, "calculator@1.0.0", "add", "1", "2"); code != 0 || out != "3\n" {
		t.Fatalf("add: exit %d, out %q, err %q", code, out, errOut)
	}
	if code, out, _ := run(t, "call", addr, "calculator@^1", "count", "3"); code != 0 || out != "0\n1\n2\n" {
		t.Fatalf("count: exit %d, out %q", code, out)
	}
	code, _, errOut := run(t, "call", addr, "calculator@1.0.0", "div", "1", "0")
	if code != 1 || !strings.Contains(errOut, "invalid_argument") || !strings.Contains(errOut, "division by zero") {
		t.Fatalf("div: exit %d, err %q", code, errOut)
	}
	code, _, errOut = run(t, "call", addr, "calculator@1.0.0", "nope")
	if want := `titan: not_found: service calculator@1.0.0 has no method "nope" (it has: add, count, div)` + "\n"; code != 1 || errOut != want {
		t.Fatalf("unknown method: exit %d, err %q, want %q", code, errOut, want)
	}
	code, _, errOut = run(t, "call", addr, "users@1.0.0", "find")
	if want := `titan: not_found: no service matches "users@1.0.0" (the server has: calculator@1.0.0)` + "\n"; code != 1 || errOut != want {
		t.Fatalf("unknown service: exit %d, err %q, want %q", code, errOut, want)
	}
	code, out, errOut := run(t, "inspect", addr)
	if code != 0 || !strings.Contains(out, "calculator@1.0.0") || !strings.Contains(out, "add(") || !strings.Contains(out, "count(") {
		t.Fatalf("inspect over http: exit %d, out %q, err %q", code, out, errOut)
	}
}
