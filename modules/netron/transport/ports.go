package transport

import "sync"

// Ports is the scope in which listeners share ports: package httpmux finds
// the HTTP server already serving a host:port there, so that ws:// and an
// http:// gateway on one address are one server. A Netron gives every
// listener it opens one Ports of its own ([Options.Ports]), so the ports it
// shares die with it and another Netron of the process cannot mount on
// them; listeners opened with a nil Ports share the process-wide scope.
// The zero value is ready to use; a Ports must not be copied after first
// use. Safe for concurrent use.
type Ports struct {
	mu     sync.Mutex
	values map[string]any
}

// processPorts is the scope of listeners opened without one.
var processPorts Ports

// Value returns the value kept under key in the scope, storing the result
// of newValue there first if there is none. A package keeps its state
// under a key of its own ("httpmux"). A nil p is the process-wide scope.
func (p *Ports) Value(key string, newValue func() any) any {
	if p == nil {
		p = &processPorts
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.values[key]
	if !ok {
		if p.values == nil {
			p.values = map[string]any{}
		}
		v = newValue()
		p.values[key] = v
	}
	return v
}
