package nats_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
)

// nats.embedded reads as true, false or {port: N} from every source, in
// the order of the sources; a bad value names its key.
func TestEmbeddedConfig(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		file    string
		env     []string
		sets    []string
		want    natstransport.Embedded
		wantErr string
	}{
		{name: "unset", want: natstransport.Embedded{}},
		{name: "flag true", sets: []string{"nats.embedded=true"}, want: natstransport.Embedded{Enabled: true}},
		{name: "flag port", sets: []string{"nats.embedded.port=4300"}, want: natstransport.Embedded{Enabled: true, Port: 4300}},
		{name: "file true", file: "nats:\n  embedded: true\n", want: natstransport.Embedded{Enabled: true}},
		{name: "file object", file: "nats:\n  embedded:\n    port: 4301\n", want: natstransport.Embedded{Enabled: true, Port: 4301}},
		{name: "file object off", file: "nats:\n  embedded: {enabled: false, port: 4301}\n", want: natstransport.Embedded{Port: 4301}},
		{name: "env port over file true", file: "nats:\n  embedded: true\n", env: []string{"TITAN_NATS__EMBEDDED__PORT=4302"}, want: natstransport.Embedded{Enabled: true, Port: 4302}},
		{name: "flag false over file", file: "nats:\n  embedded: {port: 4301}\n", sets: []string{"nats.embedded=false"}, want: natstransport.Embedded{}},
		{name: "port too big", sets: []string{"nats.embedded.port=70000"}, wantErr: "nats.embedded.port: want at most 65535, got 70000 (from flag --set nats.embedded.port)"},
		{name: "port not a number", file: "nats:\n  embedded:\n    port: x\n", wantErr: "nats.embedded.port: want an integer"},
		{name: "unknown key", sets: []string{"nats.embedded.host=1"}, wantErr: "nats.embedded.host: unknown key"},
		{name: "not a boolean", sets: []string{"nats.embedded=maybe"}, wantErr: "nats.embedded: want a boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := config.Options{NoDefaultFile: true, Environ: tc.env, Sets: tc.sets, NoWatch: true}
			if o.Environ == nil {
				o.Environ = []string{}
			}
			if tc.file != "" {
				o.Files = []string{file(tc.file)}
			}
			cfg, err := config.Load(o, config.NewSpec("nats", natstransport.Config{}))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := natstransport.SectionOf(cfg)
			if err != nil || c.Embedded != tc.want {
				t.Fatalf("nats.embedded = %+v, %v; want %+v", c.Embedded, err, tc.want)
			}
			port := tc.want.Port
			if port == 0 {
				port = natstransport.DefaultEmbeddedPort
			}
			if c.Embedded.PortOrDefault() != port {
				t.Fatalf("PortOrDefault = %d, want %d", c.Embedded.PortOrDefault(), port)
			}
		})
	}
}
