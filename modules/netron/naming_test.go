package netron_test

import (
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

func TestWireName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Add": "add", "GetUserID": "getUserID", "ID": "id", "HTTPStatus": "httpStatus",
		"URLs": "urls", "IDs": "ids", "IDsFor": "idsFor", "ListURLs": "listURLs", "A": "a",
		"ABTest": "abTest", "Count": "count", "X2Y": "x2Y", "IOError": "ioError", "Sub": "sub",
	} {
		if got := netron.WireName(in); got != want {
			t.Errorf("WireName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		exact   bool
		str     string
		matches map[string]bool
		bad     bool
	}{
		{in: "calculator@1.0.0", exact: true, str: "calculator@1.0.0", matches: map[string]bool{"1.0.0": true, "1.0.1": false}},
		{in: "users@^1.2", str: "users@^1.2", matches: map[string]bool{"1.2.0": true, "1.9.9": true, "2.0.0": false, "1.1.0": false}},
		{in: "users", str: "users", matches: map[string]bool{"0.0.1": true, "9.0.0": true}},
		{in: "users@~1.2.3", str: "users@~1.2.3", matches: map[string]bool{"1.2.9": true, "1.3.0": false}},
		{in: "auth.users@1.0.0", bad: true},
		{in: "users@", bad: true},
		{in: "users@not a range!", bad: true},
		{in: "calculator@1.0.0+build", bad: true}, // versions have no build metadata
		{in: "calculator@>=1.0.0+b", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		got, err := netron.ParseTarget(tt.in)
		if (err != nil) != tt.bad {
			t.Errorf("%q: err = %v", tt.in, err)
			continue
		}
		if tt.bad {
			continue
		}
		if got.Exact() != tt.exact || got.String() != tt.str {
			t.Errorf("%q: exact=%v str=%q", tt.in, got.Exact(), got.String())
		}
		for v, want := range tt.matches {
			if got.Matches(v) != want {
				t.Errorf("%q matches %s = %v", tt.in, v, !want)
			}
		}
	}
}

func TestValidateVersion(t *testing.T) {
	t.Parallel()
	for v, ok := range map[string]bool{"1.0.0": true, "2.1.0-rc.1": true, "1.0": false, "1.0.0+build.5": false, "": false, "v1.0.0": false} {
		if err := netron.ValidateVersion(v); (err == nil) != ok {
			t.Errorf("%q: err = %v", v, err)
		}
	}
}

func TestCodes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range netron.Codes {
		name := c.String()
		if name == "" || seen[name] || name[:5] == "code_" {
			t.Errorf("code %d: bad or duplicate name %q", c, name)
		}
		seen[name] = true
		if back, ok := netron.CodeOfName(name); !ok || back != c {
			t.Errorf("CodeOfName(%q) = %v", name, back)
		}
		if w := c.WireCode(); w < 400 || w > 601 {
			t.Errorf("%s: wire code %d out of range", c, w)
		}
	}
	if len(netron.Codes) != 16 {
		t.Fatalf("%d codes, want 16", len(netron.Codes))
	}
}
