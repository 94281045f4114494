package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/titanframework/titan/modules/netron"
)

// Greeter has no titan.HTTP path: its routes are /rpc/greeter@<version>.
type Greeter struct{ greeting string }

func (g *Greeter) Hello(_ context.Context, name string) (string, error) {
	return g.greeting + " " + name, nil
}

func TestOpenAPI(t *testing.T) {
	s := startServer(t, "")
	for _, v := range []struct{ version, greeting string }{{"1.0.0", "hello"}, {"2.0.0", "hi"}} {
		if err := s.n.Register("greeter", v.version, &Greeter{v.greeting}); err != nil {
			t.Fatal(err)
		}
	}
	// Only services exposed on http are documented and routed.
	if err := s.n.Register("hidden", "1.0.0", &Greeter{"psst"}, netron.WithTransports("tcp")); err != nil {
		t.Fatal(err)
	}
	c := client(t)
	r := do(t, c, http.MethodGet, s.addr+"/openapi.json", "") // no credentials needed
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v %s", r.status, r.header, r.body)
	}

	doc, err := libopenapi.NewDocument(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.GetVersion() != "3.1.0" {
		t.Fatalf("version %q", doc.GetVersion())
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("invalid document: %s: %s (%s)", e.Message, e.Reason, e.HowToFix)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s at %s (%s)", se.Reason, se.FieldPath, se.KeywordLocation)
			}
		}
		t.Fatalf("document:\n%s", r.body)
	}

	var d struct {
		OpenAPI           string `json:"openapi"`
		JSONSchemaDialect string `json:"jsonSchemaDialect"`
		Paths             map[string]map[string]struct {
			OperationID string                     `json:"operationId"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatal(err)
	}
	if d.JSONSchemaDialect != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("dialect %q", d.JSONSchemaDialect)
	}
	// Exactly one operation per public method.
	var ops []string
	for path, item := range d.Paths {
		for verb, op := range item {
			ops = append(ops, op.OperationID)
			if verb != "post" {
				t.Errorf("%s: verb %s", path, verb)
			}
			for _, status := range []string{"400", "404", "500", "503"} {
				if op.Responses[status] == nil {
					t.Errorf("%s: no %s response", op.OperationID, status)
				}
			}
		}
	}
	var want []string
	for _, m := range calculatorMethods {
		want = append(want, "calculator."+m)
	}
	want = append(want, "greeter@1.0.0.hello", "greeter@2.0.0.hello")
	slices.Sort(ops)
	slices.Sort(want)
	if !slices.Equal(ops, want) {
		t.Fatalf("operations %v\nwant %v", ops, want)
	}
	if d.Paths["/api/calculator/add"]["post"].OperationID != "calculator.add" ||
		d.Paths["/rpc/greeter@2.0.0/hello"]["post"].OperationID != "greeter@2.0.0.hello" {
		t.Fatalf("paths %v", slices.Collect(func(yield func(string) bool) {
			for p := range d.Paths {
				if !yield(p) {
					return
				}
			}
		}))
	}
	// The schemas are valid JSON Schema 2020-12.
	comp := jsonschema.NewCompiler()
	comp.DefaultDraft(jsonschema.Draft2020)
	for name, raw := range d.Components.Schemas {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := comp.AddResource("urn:test:"+name, doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := comp.Compile("urn:test:" + name); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	if !strings.Contains(string(d.Components.Schemas["calculator.norm.Input"]), `"properties"`) {
		t.Errorf("norm input is not the struct schema: %s", d.Components.Schemas["calculator.norm.Input"])
	}
	if !strings.Contains(string(d.Components.Schemas["calculator.add.Input"]), `"prefixItems"`) {
		t.Errorf("add input is not a tuple: %s", d.Components.Schemas["calculator.add.Input"])
	}

	// Real requests and answers conform to the document.
	for _, tc := range []struct{ path, body string }{
		{"/api/calculator/add", "[1,2]"},
		{"/api/calculator/norm", `{"x":3,"y":4}`},
		{"/api/calculator/summarize", `[[1,2]]`},
		{"/api/calculator/div", `[1,0]`},
		{"/api/calculator/count", `[2]`},
		{"/rpc/greeter@1.0.0/hello", `["Bob"]`},
	} {
		req, err := http.NewRequest(http.MethodPost, s.addr+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(body))
		vreq := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body))
		vreq.Header.Set("Content-Type", "application/json")
		if ok, verrs := v.ValidateHttpRequestResponse(vreq, res); !ok {
			for _, e := range verrs {
				t.Errorf("%s %s -> %d %s: %s: %s", tc.path, tc.body, res.StatusCode, body, e.Message, e.Reason)
			}
		}
	}
	// The hidden service is neither documented nor routed.
	if r := post(t, c, s.addr+"/rpc/hidden@1.0.0/hello", `["x"]`); r.status != 404 {
		t.Fatalf("hidden service over http: %d %s", r.status, r.body)
	}
}
