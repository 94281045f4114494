package cli_test

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestCall(t *testing.T) {
	t.Parallel()
	addr := serve(t, "mem://")
	const svc = "calculator@1.0.0"
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  string   // exact, when code is 0
		stderr  []string // substrings, when code is not 0
		partial string   // stdout printed before a failure
	}{
		{name: "unary", args: []string{svc, "add", "1", "2"}, stdout: "3\n"},
		{name: "float", args: []string{svc, "add", "1.5", "2"}, stdout: "3.5\n"},
		{name: "range target", args: []string{"calculator@^1", "add", "1", "2"}, stdout: "3\n"},
		{name: "bare name", args: []string{"calculator", "add", "1", "2"}, stdout: "3\n"},
		{name: "negative after --", args: []string{svc, "add", "--", "-1", "2"}, stdout: "1\n"},
		{name: "flag after args", args: []string{svc, "move", `{"x":1,"y":2}`, "3", "--pretty"},
			stdout: "{\n  \"x\": 4,\n  \"y\": 2\n}\n"},
		{name: "object", args: []string{svc, "move", `{"x":1,"y":2,"label":"<a&b>"}`, "0.5"},
			stdout: `{"x":1.5,"y":2,"label":"<a&b>"}` + "\n"},
		{name: "bare word is a string", args: []string{svc, "greet", "ada"}, stdout: `"hello, ada"` + "\n"},
		{name: "quoted number is a string", args: []string{svc, "greet", `"42"`}, stdout: `"hello, 42"` + "\n"},
		{name: "void prints nothing", args: []string{svc, "reset"}, stdout: ""},
		{name: "stream", args: []string{svc, "count", "5"}, stdout: "0\n1\n2\n3\n4\n"},
		{name: "empty stream", args: []string{svc, "count", "0"}, stdout: ""},
		{name: "other service", args: []string{"greeter@2", "hello", "bob"}, stdout: `"hi bob"` + "\n"},

		{name: "method error", args: []string{svc, "div", "1", "0"}, code: 1,
			stderr: []string{"titan: invalid_argument: division by zero\n"}},
		{name: "stream error", args: []string{svc, "fail", "2"}, code: 1, partial: "0\n1\n",
			// The code of an error ending a stream does not cross the wire
			// yet (netron reports unknown); only the message is checked.
			stderr: []string{"titan: ", "tape ran out\n"}},
		{name: "contract violation", args: []string{svc, "add", `"x"`, "2"}, code: 1,
			stderr: []string{"titan: invalid_argument: calculator@1.0.0.add: argument 1: want a number, got a string\n"}},
		{name: "bare word violates", args: []string{svc, "add", "2", "x"}, code: 1,
			stderr: []string{"titan: invalid_argument: calculator@1.0.0.add: argument 2: want a number, got a string\n"}},
		{name: "missing argument", args: []string{svc, "add", "1"}, code: 1,
			stderr: []string{"titan: invalid_argument: calculator@1.0.0.add takes 2 arguments (number, number), got 1\n"}},
		{name: "unknown service", args: []string{"nosuch@1.0.0", "add"}, code: 1,
			stderr: []string{`titan: not_found: no service matches "nosuch@1.0.0" (the server has: calculator@1.0.0, greeter@2.0.0)` + "\n"}},
		{name: "no matching version", args: []string{"calculator@^2", "add", "1", "2"}, code: 1,
			stderr: []string{`titan: not_found: no service matches "calculator@^2" (the server has: calculator@1.0.0, greeter@2.0.0)` + "\n"}},
		{name: "unknown method", args: []string{svc, "mul", "1", "2"}, code: 1,
			stderr: []string{`titan: not_found: service calculator@1.0.0 has no method "mul" (it has: add, count, div, fail, greet, move, reset, sleep)` + "\n"}},

		{name: "bad JSON", args: []string{svc, "move", `{"x":1`, "3"}, code: 2,
			stderr: []string{"titan: argument 1 ({\"x\":1): not valid JSON", "Run 'titan call --help'"}},
		{name: "bad JSON array", args: []string{svc, "add", "1", "[1,"}, code: 2,
			stderr: []string{"argument 2", "not valid JSON"}},
		{name: "negative without --", args: []string{svc, "add", "-1", "2"}, code: 2,
			stderr: []string{"put -- before JSON arguments"}},
		{name: "bad target", args: []string{"calc.x", "add"}, code: 2,
			stderr: []string{`titan: target "calc.x": service name "calc.x": use only letters, digits, '_' and '-'` + "\n"}},
		{name: "too few args", args: []string{svc}, code: 2, stderr: []string{"titan:"}},
		{name: "negative timeout", args: []string{svc, "add", "1", "2", "--timeout", "-1s"}, code: 2,
			stderr: []string{"--timeout"}},
		{name: "timeout", args: []string{svc, "sleep", "5000", "--timeout", "200ms"}, code: 1,
			stderr: []string{"titan: deadline_exceeded: no answer within 200ms (--timeout)\n"}},
		{name: "no timeout", args: []string{svc, "sleep", "10", "--timeout", "0"}, stdout: "10\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			code, out, errOut := run(t, append([]string{"call", addr}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tt.code, out, errOut)
			}
			if tt.code == 0 {
				if out != tt.stdout || errOut != "" {
					t.Errorf("stdout %q, want %q; stderr %q", out, tt.stdout, errOut)
				}
				return
			}
			if out != tt.partial {
				t.Errorf("stdout %q, want %q", out, tt.partial)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q lacks %q", errOut, want)
				}
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestCallTCP(t *testing.T) {
	t.Parallel()
	addr := serve(t, "tcp://127.0.0.1:0")
	code, out, errOut := run(t, "call", addr, "calculator@1.0.0", "count", "3")
	if code != 0 || out != "0\n1\n2\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// A bare host:port means tcp.
	hostPort := strings.TrimPrefix(addr, "tcp://")
	code, out, errOut = run(t, "call", hostPort, "calculator@1.0.0", "add", "1", "2")
	if code != 0 || out != "3\n" {
		t.Fatalf("host:port: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestCallTokenToServerWithoutAuth: --token given to a server that checks
// no tokens fails with the server's answer, its code said once.
func TestCallTokenToServerWithoutAuth(t *testing.T) {
	t.Parallel()
	addr := serve(t, "tcp://127.0.0.1:0")
	code, out, errOut := run(t, "call", "--token", "tok3n", addr, "calculator@1.0.0", "add", "1", "2")
	if want := "titan: unavailable: authenticate with --token: Authentication not configured (the server checks no tokens: call it without --token)\n"; code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and stderr %q", code, out, errOut, want)
	}
}

// TestCallEnvTokenToServerWithoutAuth: a token from $TITAN_TOKEN, not
// typed on the command line, is named as such when the server refuses it,
// with how to call without it.
func TestCallEnvTokenToServerWithoutAuth(t *testing.T) {
	t.Setenv("TITAN_TOKEN", "tok3n")
	addr := serve(t, "tcp://127.0.0.1:0")
	code, out, errOut := run(t, "call", addr, "calculator@1.0.0", "add", "1", "2")
	if want := "titan: unavailable: authenticate with $TITAN_TOKEN: Authentication not configured (the server checks no tokens: unset TITAN_TOKEN to call it without one)\n"; code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and stderr %q", code, out, errOut, want)
	}
}

func TestCallUnreachable(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: bind one, then free it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "tcp://" + l.Addr().String()
	l.Close()
	for _, a := range []string{addr, "mem://nobody-listens-here"} {
		start := time.Now()
		code, out, errOut := run(t, "call", a, "calculator@1.0.0", "add", "1", "2")
		if code != 1 || out != "" || !strings.HasPrefix(errOut, "titan: unavailable: ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", a, code, out, errOut)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v to fail", a, d)
		}
	}
}

// TestCallRegistryAndAddress: an ADDRESS given with --registry is named
// as such, not taken for a malformed SERVICE.
func TestCallRegistryAndAddress(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"tcp://127.0.0.1:7070", "127.0.0.1:7070"} {
		code, _, errOut := run(t, "call", "--registry", "redis://127.0.0.1:1/0", a, "calculator@1.0.0", "add", "1", "2")
		if want := "titan: " + a + ": with --registry there is no ADDRESS"; code != 2 || !strings.HasPrefix(errOut, want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", a, code, errOut, want)
		}
	}
}

func TestCallBadAddress(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"nowhere", "bogus://x", "localhost"} {
		code, _, errOut := run(t, "call", a, "calculator@1.0.0", "add", "1", "2")
		if code != 2 || !strings.Contains(errOut, "titan: address") {
			t.Errorf("%s: exit %d, stderr %q", a, code, errOut)
		}
	}
}

// TestCallAddressWithoutHostOrPort: an address that parses as a URL but
// lacks its host, port or socket path, or has a port out of range, is bad
// usage naming the address, not a process that is unavailable.
func TestCallAddressWithoutHostOrPort(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ addr, want string }{
		{"tcp://127.0.0.1", `titan: address "tcp://127.0.0.1" has no port: want tcp://host:port`},
		{"tcp://", `titan: address "tcp://" names no host: want tcp://host:port`},
		{"tcp:host:1", `titan: address "tcp:host:1" names no host: want tcp://host:port`},
		{"127.0.0.1:99999", `titan: address "127.0.0.1:99999" has port 99999, out of range (0 to 65535)`},
		{"nats://127.0.0.1:99999", `titan: address "nats://127.0.0.1:99999" has port 99999, out of range (0 to 65535)`},
		{"ws://", `titan: address "ws://" names no host: want ws://host:port`},
		{"http://", `titan: address "http://" names no host: want http://host:port`},
		{"unix://", `titan: address "unix://" names no socket: want unix:///path/to/app.sock`},
	} {
		code, out, errOut := run(t, "call", tt.addr, "calculator@1.0.0", "add", "1", "2")
		if code != 2 || out != "" || !strings.HasPrefix(errOut, tt.want+"\n") {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", tt.addr, code, errOut, tt.want)
		}
	}
}
