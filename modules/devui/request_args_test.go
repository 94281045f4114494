package devui

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// A number beyond the float64 range is refused naming the argument that
// holds it, as the HTTP gateway names it, not by an offset into the JSON
// text the page built.
func TestParseCallNamesTheArgumentOutOfRange(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ args, want string }{
		{`[1e400, 2]`, "argument 1: number 1e400 is out of range"},
		{`["aaaaaaaaaaaaaaaa", 1e400]`, "argument 2: number 1e400 is out of range"},
		{`[1, 2, {"x": [3, -1e999]}]`, "argument 3: number -1e999 is out of range"},
	} {
		_, err := parseCall([]byte(`{"service":"calc@1.0.0","method":"add","args":` + tt.args + `}`))
		if err == nil || netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("args %s: %v, want invalid_argument saying %q", tt.args, err, tt.want)
		}
	}
}
