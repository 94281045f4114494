package config

import (
	"fmt"
	"strings"
)

// Problem is one bad configuration value.
type Problem struct {
	// Path is the dotted key ("netron.requestTimeout").
	Path string
	// Reason says what is wrong with the value.
	Reason string
	// Source says where the value came from: "titan.yaml:12",
	// "env TITAN_NETRON__REQUEST_TIMEOUT", "flag --set netron.requestTimeout"
	// or "default".
	Source string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s (from %s)", p.Path, p.Reason, p.Source)
}

// ValidationError lists every bad value found while loading. Load and Reload
// return it (wrapped) when any section fails its schema.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("config: invalid value: ")
		b.WriteString(e.Problems[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, "config: %d invalid values:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}
