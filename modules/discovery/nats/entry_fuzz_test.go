package nats

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// fuzzEntry is a bucket entry as a watcher or Get hands it to decode.
type fuzzEntry struct {
	key   string
	value []byte
}

func (e fuzzEntry) Bucket() string                  { return "titan_discovery" }
func (e fuzzEntry) Key() string                     { return e.key }
func (e fuzzEntry) Value() []byte                   { return e.value }
func (e fuzzEntry) Revision() uint64                { return 1 }
func (e fuzzEntry) Created() time.Time              { return time.Unix(1000, 0) }
func (e fuzzEntry) Delta() uint64                   { return 0 }
func (e fuzzEntry) Operation() jetstream.KeyValueOp { return jetstream.KeyValuePut }

// FuzzEntry feeds the backend's reader any entry a process may have put
// in the bucket: no entry panics, and one it takes is a valid instance
// under its own key, with a time to live between a millisecond and
// maxEntryTTL.
func FuzzEntry(f *testing.F) {
	f.Add(key("users", "a"), []byte(`{"id":"a","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy","ttlMs":15000}`))
	f.Add(key("users", "a"), []byte(`{"id":"a","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy","ttlMs":-1}`))
	f.Add(key("users", "a"), []byte(`{"id":"a","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy","ttlMs":9223372036854775807}`))
	f.Add(key("users", "a"), []byte(`{"id":"b","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy","ttlMs":"1"}`))
	f.Add("users.junk", []byte(`{not json`))
	r := &Registry{bucket: "titan_discovery", ttl: 15 * time.Second, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.Fuzz(func(t *testing.T, k string, value []byte) {
		en, ok := r.decode(fuzzEntry{k, value})
		if !ok {
			return
		}
		if err := en.in.Validate(); err != nil {
			t.Fatalf("took an invalid instance %+v: %v", en.in, err)
		}
		if key(en.in.Service, en.in.ID) != k {
			t.Fatalf("took %+v from the key %q", en.in, k)
		}
		if en.ttl < time.Millisecond || en.ttl > maxEntryTTL {
			t.Fatalf("took a time to live of %v from %s", en.ttl, value)
		}
	})
}
