package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/cli"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = cli.Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	want := "titan " + titan.Version + " " + runtime.Version()
	if code != 0 || !strings.HasPrefix(out, want) {
		t.Fatalf("exit %d, output %q, want prefix %q", code, out, want)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"bogus"}, {"version", "extra"}, {"config", "--nope"}, {"help", "bogus"}} {
		code, _, errOut := run(t, args...)
		if code != 2 || !strings.Contains(errOut, "titan:") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestHelp: titan help COMMAND prints the command's help; an unknown
// topic is bad usage (TestUsageErrors).
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"help", "call"}, {"help", "generate", "service"}} {
		code, out, errOut := run(t, args...)
		want := "titan " + strings.Join(args[1:], " ")
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, strings.TrimSpace(want)) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// TestConfigUsageErrors: a bad --format or --set value of titan config
// is bad usage (exit 2), named by its flag.
func TestConfigUsageErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"config", "--format", "xml"}, `titan: --format "xml": use yaml or json`},
		{[]string{"config", "--set", "db.host"}, `titan: --set "db.host": want key=value`},
	} {
		code, _, errOut := run(t, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "TITAN_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	body := "netron:\n  listen: [\"tcp://127.0.0.1:7070\"]\n  auth:\n    jwtSecret: topsecret\ndb:\n  password: hunter2\n"
	if err := os.WriteFile(filepath.Join(dir, "titan.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TITAN_LOGGER__LEVEL", "debug")
	t.Setenv("TITAN_DB__API_TOKEN", "tok123")

	code, out, errOut := run(t, "config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"tcp://127.0.0.1:7070", "level: debug", "jwtSecret: '******'", "password: '******'", "api_token: '******'"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"topsecret", "hunter2", "tok123"} {
		if strings.Contains(out, secret) {
			t.Errorf("output leaks %q:\n%s", secret, out)
		}
	}

	code, out, _ = run(t, "config", "--format", "json", "--set", "db.host=x")
	if code != 0 || !strings.Contains(out, `"host": "x"`) {
		t.Fatalf("json: exit %d\n%s", code, out)
	}

	if err := os.WriteFile(filepath.Join(dir, "titan.yaml"), []byte("a: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "config")
	if code != 1 || !strings.Contains(errOut, "titan.yaml") || !strings.Contains(errOut, "not valid YAML") {
		t.Fatalf("malformed file: exit %d, stderr %q", code, errOut)
	}
}
