package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

const calculatorText = `calculator@1.0.0
  add(number, number) -> number
  count(integer) -> stream of integer
  div(number, number) -> number
  fail(integer) -> stream of integer
  greet(string) -> string
  move({label? string, x number, y number}, number) -> {label? string, x number, y number}
  reset()
  sleep(integer) -> integer
`

const greeterText = `greeter@2.0.0 (transports: mem, tcp)
  hello(name string) -> string|null
  tags(map[string][]string, boolean|null) -> []{label? string, x number, y number}
`

func TestInspectAll(t *testing.T) {
	t.Parallel()
	addr := serve(t, "mem://")
	code, out, errOut := run(t, "inspect", addr)
	if want := calculatorText + "\n" + greeterText; code != 0 || out != want || errOut != "" {
		t.Fatalf("exit %d, stderr %q\nstdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}
}

func TestInspectService(t *testing.T) {
	t.Parallel()
	addr := serve(t, "tcp://127.0.0.1:0")
	for _, target := range []string{"calculator@1.0.0", "calculator@^1", "calculator"} {
		code, out, errOut := run(t, "inspect", addr, target)
		if code != 0 || out != calculatorText {
			t.Errorf("%s: exit %d, stderr %q\n%s", target, code, errOut, out)
		}
	}
}

func TestInspectSchemas(t *testing.T) {
	t.Parallel()
	addr := serve(t, "mem://")
	code, out, errOut := run(t, "inspect", addr, "greeter@2.0.0", "--schemas")
	want := greeterText[:strings.Index(greeterText, "\n")+1] + `  hello(name string) -> string|null
    input schema:
      {
        "items": false,
        "prefixItems": [
          {
            "maxLength": 20,
            "title": "name",
            "type": "string"
          }
        ],
        "type": "array"
      }
    output schema:
      {
        "type": [
          "string",
          "null"
        ]
      }
`
	if code != 0 || !strings.HasPrefix(out, want+"  tags(") {
		t.Fatalf("exit %d, stderr %q\nstdout:\n%s\nwant:\n%s", code, errOut, out, want)
	}
}

func TestInspectJSON(t *testing.T) {
	t.Parallel()
	addr := serve(t, "mem://")
	code, out, errOut := run(t, "inspect", addr, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Address  string `json:"address"`
		Services []struct {
			Name, Version, ID string
			Transports        []string
			Methods           []struct {
				Name, Signature string
				Stream          bool
				InputSchema     map[string]any
				OutputSchema    map[string]any
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if doc.Address != addr || len(doc.Services) != 2 {
		t.Fatalf("address %q, %d services:\n%s", doc.Address, len(doc.Services), out)
	}
	calc, greeter := doc.Services[0], doc.Services[1]
	if calc.Name != "calculator" || calc.Version != "1.0.0" || calc.ID == "" || len(calc.Methods) != 8 {
		t.Fatalf("calculator: %+v", calc)
	}
	if greeter.Name != "greeter" || strings.Join(greeter.Transports, ",") != "mem,tcp" {
		t.Fatalf("greeter: %+v", greeter)
	}
	for _, m := range calc.Methods {
		if m.InputSchema["type"] != "array" {
			t.Errorf("%s: input schema %v", m.Name, m.InputSchema)
		}
		switch m.Name {
		case "count":
			if !m.Stream || m.Signature != "count(integer) -> stream of integer" || m.OutputSchema["type"] != "integer" {
				t.Errorf("count: %+v", m)
			}
		case "reset":
			if m.Stream || m.OutputSchema != nil {
				t.Errorf("reset: %+v", m)
			}
		case "add":
			if m.Stream || m.OutputSchema["type"] != "number" {
				t.Errorf("add: %+v", m)
			}
		}
	}
}

func TestInspectErrors(t *testing.T) {
	t.Parallel()
	addr := serve(t, "mem://")
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"inspect", addr, "nosuch"}, 1, `titan: not_found: no service matches "nosuch" (the server has: calculator@1.0.0, greeter@2.0.0)` + "\n"},
		{[]string{"inspect", addr, "calculator@^3"}, 1, `titan: not_found: no service matches "calculator@^3" (the server has: calculator@1.0.0, greeter@2.0.0)` + "\n"},
		{[]string{"inspect", "mem://nobody-listens-here"}, 1, "titan: unavailable: "},
		{[]string{"inspect"}, 2, "titan: "},
		{[]string{"inspect", addr, "calculator", "extra"}, 2, "titan: "},
		{[]string{"inspect", addr, "bad.name"}, 2, "bad.name"},
		{[]string{"inspect", "nowhere"}, 2, "titan: address"},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, tt.args...)
		if code != tt.code || out != "" || !strings.Contains(errOut, tt.stderr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tt.args, code, out, errOut)
		}
	}
}
