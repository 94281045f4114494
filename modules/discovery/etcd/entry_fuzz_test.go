package etcd

import (
	"io"
	"log/slog"
	"testing"
)

// FuzzEntry feeds the backend's reader any key and value a process may
// have put under the registry's root: no entry panics, and one it takes
// is a valid instance under its own key.
func FuzzEntry(f *testing.F) {
	f.Add("/titan/discovery/instances/users/a", []byte(`{"id":"a","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy"}`))
	f.Add("/titan/discovery/instances/users/app1/users@1.0.0", []byte(`{"id":"app1/users@1.0.0","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy"}`))
	f.Add("/titan/discovery/instances/users/b", []byte(`{"id":"a","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy"}`))
	f.Add("/titan/discovery/instances/junk", []byte(`{not json`))
	r := &Registry{root: "/titan/discovery/instances/", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		in, ok := r.decode([]byte(key), value)
		if !ok {
			return
		}
		if err := in.Validate(); err != nil {
			t.Fatalf("took an invalid instance %+v: %v", in, err)
		}
		if r.key(in.Service, in.ID) != key {
			t.Fatalf("took %+v from the key %q", in, key)
		}
	})
}
