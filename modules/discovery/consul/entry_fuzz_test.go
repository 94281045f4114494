package consul

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

// FuzzServiceEntry feeds the backend's reader any service entry a process
// may have registered with the Consul agent: no entry panics, and one it
// takes is a valid Titan instance under the service id it derives from
// the instance's id, with its addresses and the m_ metadata of the entry.
func FuzzServiceEntry(f *testing.F) {
	f.Add("users", "c3ZjMQ", "svc1", "1.0.0", "up", `["tcp://127.0.0.1:9000"]`, "m_zone", "eu")
	f.Add("users", "", "", "", "", `[]`, "", "")
	f.Add("users", "x", "x", "banana", "sick", `{"a":1}`, "m_", "")
	f.Add("", "YQ", "a", "1.2.3-rc.1", "down", `["ws://[::1]:1/p", ""]`, "titan_id", "b")
	r := &Registry{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, service, id, titanID, version, health, addrs, metaKey, metaValue string) {
		meta := map[string]string{"titan_id": titanID, "titan_version": version, "titan_health": health, "titan_addrs": addrs}
		if metaKey != "" {
			meta[metaKey] = metaValue
		}
		in, ok := r.instance(&api.ServiceEntry{Service: &api.AgentService{ID: id, Service: service, Meta: meta}})
		if !ok {
			return
		}
		if err := in.Validate(); err != nil {
			t.Fatalf("took an invalid instance %+v: %v", in, err)
		}
		if serviceID(in.ID) != id || in.Service != service {
			t.Fatalf("took %+v from the entry %q of service %q", in, id, service)
		}
		if name, ok := strings.CutPrefix(metaKey, "m_"); ok {
			if v, taken := in.Metadata[name]; !taken || v != meta[metaKey] {
				t.Fatalf("metadata %q=%q not taken: %v", metaKey, meta[metaKey], in.Metadata)
			}
		}
	})
}
