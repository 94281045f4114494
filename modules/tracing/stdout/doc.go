// Package stdout registers the "stdout" span exporter of the tracing
// module: each span the app ends is written to the standard output as
// one JSON object, in batches. It is meant for development. Linking the
// package makes the name available:
//
//	import _ "github.com/titanframework/titan/modules/tracing/stdout"
//
// with tracing.exporter: stdout in the app's configuration. It takes no
// tracing.endpoint: one set fails start-up.
package stdout
