package templates

import "embed"

// FS holds the templates, one directory each. It is read-only and safe for
// concurrent use.
//
//go:embed all:service
var FS embed.FS
