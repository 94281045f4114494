package http

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	"github.com/titanframework/titan/modules/netron"
)

// The OpenAPI document (GET /openapi.json) is OpenAPI 3.1.0 with JSON
// Schema 2020-12 as its dialect. It has one POST operation per public
// method of every service exposed on the gateway, at the method's
// canonical JSON route (the service's titan.HTTP path, else
// /rpc/<name>@<version>), with operationId <name>.<method>
// (<name>@<version>.<method> when several versions of a name are
// exposed). The request body schema is the method's input contract: the
// single object argument's schema when the method takes one object, else
// the tuple of its positional arguments (an array with prefixItems). The
// 200 response is the output contract (an array of items for a stream,
// also offered as text/event-stream and application/x-ndjson); a void
// method answers 204. Every operation lists the error answers 400, 404,
// 413, 500 and 503, which share the Error component. The /netron/*
// protocol routes are not listed: they are the TypeScript clients'
// protocol (NETRON-WIRE.md §11), not an API of the services.

const dialect2020 = "https://json-schema.org/draft/2020-12/schema"

type oaDoc struct {
	OpenAPI           string            `json:"openapi"`
	JSONSchemaDialect string            `json:"jsonSchemaDialect"`
	Info              oaInfo            `json:"info"`
	Servers           []oaServer        `json:"servers"`
	Tags              []oaTag           `json:"tags,omitempty"`
	Paths             map[string]oaPath `json:"paths"`
	Components        oaComponents      `json:"components"`
}

type oaInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

type oaServer struct {
	URL string `json:"url"`
}

type oaTag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

type oaPath struct {
	Post *oaOperation `json:"post"`
}

type oaOperation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description,omitempty"`
	Tags        []string              `json:"tags"`
	RequestBody *oaRequestBody        `json:"requestBody,omitempty"`
	Responses   map[string]oaResponse `json:"responses"`
}

type oaRequestBody struct {
	Description string                 `json:"description,omitempty"`
	Required    bool                   `json:"required"`
	Content     map[string]oaMediaType `json:"content"`
}

type oaMediaType struct {
	Schema     json.RawMessage `json:"schema"`
	ItemSchema json.RawMessage `json:"x-titan-item-schema,omitempty"`
}

type oaResponse struct {
	Ref         string                 `json:"$ref,omitempty"`
	Description string                 `json:"description,omitempty"`
	Headers     map[string]oaHeader    `json:"headers,omitempty"`
	Content     map[string]oaMediaType `json:"content,omitempty"`
}

type oaHeader struct {
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
}

type oaComponents struct {
	Schemas   map[string]json.RawMessage `json:"schemas"`
	Responses map[string]oaResponse      `json:"responses"`
}

const errorSchema = `{
	"type": "object",
	"description": "An error answer (NETRON-WIRE.md §11.4).",
	"required": ["id", "success", "error"],
	"properties": {
		"id": {"type": "string", "description": "The request id (X-Request-ID)."},
		"success": {"const": false},
		"error": {
			"type": "object",
			"required": ["code", "message"],
			"properties": {
				"code": {"type": "string", "description": "The HTTP status as a string, or the error's details.errorCode."},
				"message": {"type": "string"},
				"details": {"description": "Structured details of the error; {} when there are none."}
			}
		}
	}
}`

var errorStatuses = []struct{ status, description string }{
	{"400", "Invalid arguments: malformed JSON or a contract violation"},
	{"404", "Unknown service or method"},
	{"413", "Request body too large"},
	{"500", "Internal error"},
	{"503", "Unavailable: the server is shutting down"},
}

var notComponentChar = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }

func schemaRef(name string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"$ref": "#/components/schemas/" + name})
	return b
}

// embedSchema prepares a contract schema for the document: its $schema is
// dropped when it is the document's dialect.
func embedSchema(s json.RawMessage) json.RawMessage {
	if len(s) == 0 {
		return rawJSON("{}")
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(s, &m) != nil {
		return s // true/false schemas and the like
	}
	if d, ok := m["$schema"]; ok {
		var u string
		if json.Unmarshal(d, &u) == nil && strings.TrimSuffix(u, "#") == dialect2020 {
			delete(m, "$schema")
			b, err := json.Marshal(m)
			if err == nil {
				return b
			}
		}
	}
	return s
}

// openAPI builds the document for the services of t.
// openAPI builds the document of t's routes; shown, when not nil, keeps
// only the methods it holds (see Handler.shown).
func openAPI(t *table, shown map[string]map[string]bool) *oaDoc {
	doc := &oaDoc{
		OpenAPI:           "3.1.0",
		JSONSchemaDialect: dialect2020,
		Info: oaInfo{
			Title:   "Titan services",
			Version: "1.0.0",
			Description: "JSON routes of the services: POST the arguments as a JSON array " +
				"(or the object itself when a method takes one object); the answer is the result as JSON. " +
				"Stream methods answer a JSON array, or Server-Sent Events / NDJSON by Accept.",
		},
		Servers: []oaServer{{URL: "/"}},
		Paths:   map[string]oaPath{},
		Components: oaComponents{
			Schemas: map[string]json.RawMessage{"Error": rawJSON(errorSchema)},
			Responses: map[string]oaResponse{"Error": {
				Description: "An error",
				Headers: map[string]oaHeader{
					"X-Request-ID": {Description: "The request id, also the body's id.", Schema: rawJSON(`{"type":"string"}`)},
					"X-Titan-Code": {Description: "The Titan error code (snake_case name).", Schema: rawJSON(`{"type":"string"}`)},
				},
				Content: map[string]oaMediaType{"application/json": {Schema: schemaRef("Error")}},
			}},
		},
	}
	for _, s := range t.services {
		if shown != nil && len(shown[s.qualified]) == 0 {
			continue
		}
		doc.Tags = append(doc.Tags, oaTag{Name: s.qualified, Description: "Service " + s.qualified})
		opBase := s.desc.Name
		if len(t.byName[s.desc.Name]) > 1 {
			opBase = s.qualified
		}
		base := routeBase(s)
		for _, md := range s.desc.Methods {
			m := s.methods[md.Name]
			path := base + "/" + md.Name
			if t.routes[path] != m || shown != nil && !shown[s.qualified][md.Name] {
				continue // shadowed by another service's route
			}
			opID := opBase + "." + md.Name
			comp := notComponentChar.ReplaceAllString(opID, "_")
			op := &oaOperation{
				OperationID: opID,
				Summary:     "Call " + s.qualified + "." + md.Name,
				Tags:        []string{s.qualified},
				Responses:   map[string]oaResponse{},
			}
			switch {
			case m.objectArg:
				doc.Components.Schemas[comp+".Input"] = embedSchema(m.argSchemas[0])
				op.RequestBody = &oaRequestBody{
					Description: "The method's one argument.",
					Required:    true,
					Content:     map[string]oaMediaType{"application/json": {Schema: schemaRef(comp + ".Input")}},
				}
			default:
				doc.Components.Schemas[comp+".Input"] = embedSchema(md.Input)
				op.RequestBody = &oaRequestBody{
					Description: "The positional arguments as a JSON array.",
					Required:    md.Arity > 0,
					Content:     map[string]oaMediaType{"application/json": {Schema: schemaRef(comp + ".Input")}},
				}
			}
			switch {
			case md.Void:
				op.Responses["204"] = oaResponse{Description: "Done; the method returns nothing."}
			case md.Stream:
				doc.Components.Schemas[comp+".Item"] = embedSchema(md.Output)
				arr, _ := json.Marshal(map[string]any{"type": "array", "items": schemaRef(comp + ".Item")})
				op.Description = "A stream: every item in one JSON array by default (at most 10000), " +
					"or one Server-Sent Event per item (data: <json>; then event: end, or event: error with the Error body), " +
					"or one NDJSON line per item, by Accept."
				op.Responses["200"] = oaResponse{
					Description: "The items of the stream",
					Content: map[string]oaMediaType{
						"application/json":     {Schema: arr},
						"text/event-stream":    {Schema: rawJSON(`{"type":"string"}`), ItemSchema: schemaRef(comp + ".Item")},
						"application/x-ndjson": {Schema: rawJSON(`{"type":"string"}`), ItemSchema: schemaRef(comp + ".Item")},
					},
				}
			default:
				doc.Components.Schemas[comp+".Output"] = embedSchema(md.Output)
				op.Responses["200"] = oaResponse{
					Description: "The result",
					Content:     map[string]oaMediaType{"application/json": {Schema: schemaRef(comp + ".Output")}},
				}
			}
			for _, e := range errorStatuses {
				op.Responses[e.status] = oaResponse{Ref: "#/components/responses/Error", Description: e.description}
			}
			doc.Paths[path] = oaPath{Post: op}
		}
	}
	return doc
}

// serveOpenAPI answers GET /openapi.json, without authentication (the
// original requires a bearer token, NETRON-WIRE.md §11.7).
func (h *Handler) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	t := h.routes.refresh(false)
	shown := h.shown(r, t)
	b, err := json.MarshalIndent(openAPI(t, shown), "", "  ")
	if err != nil {
		h.log.Error("openapi document not encodable", "error", err)
		writeError(w, "", requestError(netron.CodeInternal, http.StatusInternalServerError, "internal error"), false)
		return
	}
	hd := w.Header()
	hd["Content-Type"] = jsonContentType
	if shown != nil {
		// The document depends on who asks.
		hd.Set("Cache-Control", "private, no-store")
		hd.Add("Vary", "Authorization")
	} else {
		hd.Set("Cache-Control", "public, max-age=300")
	}
	_, _ = w.Write(b)
}
