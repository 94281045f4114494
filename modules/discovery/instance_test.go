package discovery_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/discovery"
)

// DecodeInstance takes an instance in its registry form and refuses one
// that is malformed or unfit to dial, saying what is wrong with it.
func TestDecodeInstance(t *testing.T) {
	t.Parallel()
	good := `{"id":"n1/users@1.0.0","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.5:7070","unix:///run/app.sock","pipe://app"],"metadata":{"zone":"a"},"health":"healthy"}`
	in, err := discovery.DecodeInstance([]byte(good))
	if err != nil {
		t.Fatalf("a good instance: %v", err)
	}
	want := discovery.Instance{ID: "n1/users@1.0.0", Service: "users", Version: "1.0.0", Addrs: []string{"tcp://10.0.0.5:7070", "unix:///run/app.sock", "pipe://app"}, Metadata: map[string]string{"zone": "a"}, Health: discovery.Healthy}
	if !in.Equal(want) {
		t.Fatalf("decoded %+v, want %+v", in, want)
	}

	for _, c := range []struct{ name, json, want string }{
		{"not JSON", `junk`, "discovery: not an instance: invalid character 'j'"},
		{"not an object", `[1]`, "discovery: not an instance: json: cannot unmarshal array"},
		{"no id", `{"service":"users","version":"1.0.0","addrs":["tcp://a:1"],"health":"healthy"}`, `instance "" of users@1.0.0: no id`},
		{"bad version", `{"id":"x","service":"users","version":"1.0","addrs":["tcp://a:1"],"health":"healthy"}`, `version "1.0" is not a semantic version`},
		{"no address", `{"id":"x","service":"users","version":"1.0.0","health":"healthy"}`, "no address"},
		{"address without a scheme", `{"id":"x","service":"users","version":"1.0.0","addrs":["10.0.0.5:7070"],"health":"healthy"}`, `address "10.0.0.5:7070" is not a URL: first path segment in URL cannot contain colon`},
		{"address without a scheme or colon", `{"id":"x","service":"users","version":"1.0.0","addrs":["app.sock"],"health":"healthy"}`, `address "app.sock" has no scheme (want a URL such as tcp://10.0.0.5:7070)`},
		{"address with a control byte", `{"id":"x","service":"users","version":"1.0.0","addrs":["tcp://a:1\n"],"health":"healthy"}`, `address "tcp://a:1\n" is not a URL: net/url: invalid control character in URL`},
		{"address naming nothing", `{"id":"x","service":"users","version":"1.0.0","addrs":["tcp://a:1","tcp:"],"health":"healthy"}`, `address "tcp:" names no host or path`},
		{"bad health", `{"id":"x","service":"users","version":"1.0.0","addrs":["tcp://a:1"],"health":"fine"}`, `health "fine" is none of healthy, draining, unhealthy`},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, err := discovery.DecodeInstance([]byte(c.json))
			if err == nil {
				t.Fatalf("accepted %+v", in)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			if strings.Count(err.Error(), c.want) != 1 {
				t.Fatalf("error %q says %q more than once", err, c.want)
			}
		})
	}
}

// FuzzDecodeInstance: whatever a registry holds, DecodeInstance does not
// panic; what it accepts is valid, every address parses as a URL with a
// scheme, and its JSON form decodes to the same instance.
func FuzzDecodeInstance(f *testing.F) {
	f.Add([]byte(`{"id":"n1/users@1.0.0","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.5:7070"],"metadata":{"zone":"a"},"health":"healthy"}`))
	f.Add([]byte(`{"id":"x","service":"s","version":"1.2.3-rc.1+b","addrs":["unix:///a","pipe://p","ws://h/x?y"],"health":"draining"}`))
	f.Add([]byte(`{"id":"x","service":"s","version":"1.0.0","addrs":["tcp:"],"health":"healthy"}`))
	f.Add([]byte(`{"id":"\ud800","service":"s","version":"01.0.0","addrs":[null],"health":"healthy","id":"y"}`))
	f.Add([]byte(`junk`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := discovery.DecodeInstance(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if err := in.Validate(); err != nil {
			t.Fatalf("accepted an instance Validate refuses: %v", err)
		}
		for _, a := range in.Addrs {
			if u, err := url.Parse(a); err != nil || u.Scheme == "" {
				t.Fatalf("accepted address %q (%v)", a, err)
			}
		}
		again, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := discovery.DecodeInstance(again)
		if err != nil {
			t.Fatalf("its own JSON form %s is refused: %v", again, err)
		}
		if !back.Equal(in) {
			t.Fatalf("round trip: %+v then %+v", in, back)
		}
	})
}

// The error of an entry that is huge as well as malformed (any process
// can write one, and every reader logs it) is of a bounded size: it lists
// the first few bad addresses and counts the others, and quotes a long
// value in part.
func TestDecodeInstanceErrorBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("y", 100_000)
	addrs := []string{"tcp://10.0.0.5:7070", "10.0.0.5:" + long}
	for range 10_000 {
		addrs = append(addrs, "x")
	}
	b, err := json.Marshal(discovery.Instance{ID: long, Service: "users", Version: "1.0" + long, Addrs: addrs, Health: discovery.Health(long)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = discovery.DecodeInstance(b)
	if err == nil {
		t.Fatal("accepted")
	}
	if n := len(err.Error()); n > 2000 {
		t.Fatalf("an error of %d bytes for an entry of %d: %.300s…", n, len(b), err)
	}
	for _, want := range []string{`address "x" has no scheme`, "and 9998 more bad addresses", "is not a semantic version", "is none of healthy, draining, unhealthy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// A valid entry longer than discovery.MaxEntryBytes (someone with access
// to the registry wrote 2 MiB of metadata) is refused before it is
// decoded, with an error of a bounded size that says why.
func TestDecodeInstanceBoundsTheEntry(t *testing.T) {
	t.Parallel()
	in := discovery.Instance{ID: "app1/users@1.0.0", Service: "users", Version: "1.0.0", Addrs: []string{"tcp://10.0.0.5:7070"}, Health: discovery.Healthy,
		Metadata: map[string]string{"blob": strings.Repeat("y", 2<<20)}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = discovery.DecodeInstance(b)
	if err == nil {
		t.Fatalf("DecodeInstance accepted an entry of %d bytes, over discovery.MaxEntryBytes (%d)", len(b), discovery.MaxEntryBytes)
	}
	if !strings.Contains(err.Error(), "longer than the limit") || len(err.Error()) > 200 {
		t.Fatalf("error %.300q: want a short one saying the entry is longer than the limit", err)
	}
	in.Metadata["blob"] = strings.Repeat("y", discovery.MaxEntryBytes/2)
	if b, err = json.Marshal(in); err != nil {
		t.Fatal(err)
	}
	if _, err := discovery.DecodeInstance(b); err != nil {
		t.Fatalf("an entry of %d bytes, within the limit: %v", len(b), err)
	}
}
