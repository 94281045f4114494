package config_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type backendURLs struct {
	URL      string            `json:"url,omitempty"`
	Backends []string          `json:"backends,omitempty"`
	Remotes  map[string]string `json:"remotes,omitempty"`
}

// A URL's password, the token NATS takes as its user (nats://token@host)
// and a token in its query (ws://host/?token=…) are secrets wherever the URL is (discovery.url,
// security.rateLimit.url, nats.events, netron.remotes): Dump shows the
// URL without it, so the host stays readable.
func TestDumpHidesTheCredentialsOfURLs(t *testing.T) {
	spec := config.NewSpec("reg", backendURLs{})
	c, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{
		`TITAN_REG__URL=redis://:PASS-S3CRET@10.0.0.9:6379/0,redis://u:PASS2-S3CRET@10.0.0.10:6379/0`,
		`TITAN_REG__BACKENDS=["nats://TOKEN-S3CRET@10.0.0.11:4222","consul://10.0.0.12:8500"]`,
		`TITAN_REG__REMOTES={"billing":"nats://user:PASS3-S3CRET@10.0.0.13:4222","audit":"ws://10.0.0.14:7070/?compress=s2&token=QUERY-S3CRET"}`,
	}}, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"yaml", "json"} {
		var out bytes.Buffer
		if err := c.Dump(&out, format); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		if strings.Contains(s, "S3CRET") {
			t.Errorf("%s dump shows a URL's password or token:\n%s", format, s)
		}
		for _, host := range []string{"10.0.0.9:6379", "10.0.0.10:6379", "10.0.0.11:4222", "consul://10.0.0.12:8500", "10.0.0.13:4222", "ws://10.0.0.14:7070/?compress=s2"} {
			if !strings.Contains(s, host) {
				t.Errorf("%s dump hides %s, which is no secret:\n%s", format, host, s)
			}
		}
	}
}
