// Package schema derives JSON Schemas (draft 2020-12) from Go types and
// validates JSON values against them.
//
// It is the one place where Titan joins invopop/jsonschema (reflection from
// Go types, `json` and `jsonschema` struct tags) to santhosh-tekuri/jsonschema
// v6 (validation). Configuration sections and Netron method contracts both use
// it, so a schema means the same thing everywhere.
//
// Titan's reflection differs from invopop's defaults in three ways:
// definitions are inlined (no $ref), the root carries no $id, and a
// [time.Duration] is a string in Go's duration syntax ("5s", "1m30s") rather than an integer of nanoseconds.
package schema
