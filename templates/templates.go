package templates

import "embed"

// FS holds the templates, one directory each, and the directories whose
// names start with "_": _base, the files every template has unless it
// has its own of the same path, and _generate, the files of titan
// generate (_generate/service for a service). It is read-only and safe
// for concurrent use.
//
//go:embed all:_base all:_generate all:service all:gateway all:worker
var FS embed.FS
