package schema_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/schema"
)

type Inner struct {
	Port int `json:"port" jsonschema:"minimum=1,maximum=65535"`
}

type Outer struct {
	Name    string        `json:"name" jsonschema:"minLength=1"`
	Timeout time.Duration `json:"timeout"`
	Inner   Inner         `json:"inner"`
	Tags    []string      `json:"tags,omitempty"`
}

func compile(t *testing.T) *schema.Validator {
	t.Helper()
	doc, err := schema.ReflectJSON(reflect.TypeFor[Outer]())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), `"$ref"`) {
		t.Fatalf("schema has references: %s", doc)
	}
	v, err := schema.Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDurationIsString(t *testing.T) {
	v := compile(t)
	for _, tt := range []struct {
		d  any
		ok bool
	}{{"5s", true}, {"1h30m", true}, {"0", true}, {"-1.5ms", true}, {"soon", false}, {5000000000, false}} {
		val, err := schema.Normalize(map[string]any{"name": "x", "timeout": tt.d, "inner": map[string]any{"port": 1}})
		if err != nil {
			t.Fatal(err)
		}
		got := v.Validate(val)
		if (len(got) == 0) != tt.ok {
			t.Errorf("timeout %v: violations %v, want ok=%v", tt.d, got, tt.ok)
		}
	}
}

func TestViolationsNameEachPath(t *testing.T) {
	v := compile(t)
	var val any
	if err := json.Unmarshal([]byte(`{"name":"","inner":{"port":70000},"extra":1}`), &val); err != nil {
		t.Fatal(err)
	}
	val, _ = schema.Normalize(val)
	var paths []string
	for _, viol := range v.Validate(val) {
		paths = append(paths, viol.DottedPath())
		if viol.Reason == "" {
			t.Errorf("%s: empty reason", viol.DottedPath())
		}
	}
	slices.Sort(paths)
	want := []string{"extra", "inner.port", "name", "timeout"}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths = %v, want %v", paths, want)
	}
}

func TestPointer(t *testing.T) {
	got := schema.Violation{Path: []string{"a/b", "c~d", "0"}}.Pointer()
	if got != "/a~1b/c~0d/0" {
		t.Fatalf("pointer = %q", got)
	}
}

func TestCompileRejectsBadDocuments(t *testing.T) {
	if _, err := schema.Compile([]byte(`{`)); err == nil {
		t.Fatal("invalid JSON accepted")
	}
	if _, err := schema.Compile([]byte(`{"type": 12}`)); err == nil {
		t.Fatal("invalid schema accepted")
	}
}
