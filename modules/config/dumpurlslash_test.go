package config_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A password holding an unescaped '/' (redis://u:pa/ss@host) is hidden in
// full: the '/' is part of the password, not the start of the URL's path.
// A '@' in the path of a URL with a port is no credential.
func TestDumpHidesAPasswordWithASlash(t *testing.T) {
	spec := config.NewSpec("reg", backendURLs{})
	c, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{
		`TITAN_REG__URL=redis://u:PA/SS-S3CRET@10.0.0.9:6379/0`,
		`TITAN_REG__BACKENDS=["redis://:A/B/C-S3CRET@10.0.0.10:6379","https://10.0.0.11:8443/pkg/@scope/x"]`,
	}}, spec)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := c.Dump(&out, "yaml"); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, leak := range []string{"PA", "SS-", "S3CRET", "A/B"} {
		if strings.Contains(s, leak) {
			t.Errorf("dump shows %q of a password:\n%s", leak, s)
		}
	}
	for _, want := range []string{"redis://u:xxxxx@10.0.0.9:6379/0", "redis://:xxxxx@10.0.0.10:6379", "https://10.0.0.11:8443/pkg/@scope/x"} {
		if !strings.Contains(s, want) {
			t.Errorf("dump lacks %s:\n%s", want, s)
		}
	}
}
