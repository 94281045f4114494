package config_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type replica struct {
	Host string `json:"host"`
	Pass string `json:"pass,omitempty" secret:"true"`
}

type dbConfig struct {
	Replicas []replica `json:"replicas,omitempty"`
}

// Secrets held in a list of objects are masked by Dump as they are
// elsewhere: by a key whose name looks secret, and by a field tagged
// secret:"true" in the list's element type.
func TestDumpMasksSecretsInLists(t *testing.T) {
	dir := t.TempDir()
	file := write(t, dir, "app.yaml", `
db:
  replicas:
    - {host: a, pass: tagged-s3cret}
other:
  servers:
    - {url: "nats://x", password: named-s3cret}
`)
	c, err := config.Load(config.Options{Files: []string{file}, Environ: []string{}, NoDefaultFile: true}, config.NewSpec("db", dbConfig{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"yaml", "json"} {
		var buf bytes.Buffer
		if err := c.Dump(&buf, format); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, secret := range []string{"tagged-s3cret", "named-s3cret"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s dump leaks %q:\n%s", format, secret, out)
			}
		}
		if !strings.Contains(out, "nats://x") {
			t.Errorf("%s dump lacks the list's other values:\n%s", format, out)
		}
	}
}
