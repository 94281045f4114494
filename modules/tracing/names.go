package tracing

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/titanframework/titan/modules/netron"
)

// maxSpanNames bounds the span names a spanNames keeps: the targets of
// calls made come from code and could be made up per call.
const maxSpanNames = 1024

// spanNames keeps the span name of each service and method seen, so that
// a call whose span is not sampled builds no string. Reads take no lock.
type spanNames struct {
	m  atomic.Pointer[map[nameKey]string] // never modified once stored
	mu sync.Mutex                         // serialises additions
}

type nameKey struct{ service, method string }

// of returns "<service>/<method>" for call.
func (s *spanNames) of(call *netron.Call) string {
	k := nameKey{call.Service, call.Method}
	if m := s.m.Load(); m != nil {
		if name, ok := (*m)[k]; ok {
			return name
		}
	}
	name := validUTF8(call.Service + "/" + call.Method)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	if old == nil || len(*old) < maxSpanNames {
		m := make(map[nameKey]string, 1+lenOf(old))
		if old != nil {
			maps.Copy(m, *old)
		}
		m[k] = name
		s.m.Store(&m)
	}
	return name
}

func lenOf(m *map[nameKey]string) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
