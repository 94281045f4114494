package config_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

type remote struct {
	URL string `json:"url"`
	DSN string `json:"dsn" secret:"true" jsonschema:"pattern=^[a-z]+://"`
}

type remotes struct {
	ByName map[string]remote            `json:"byName,omitempty"`
	Zones  map[string]map[string]remote `json:"zones,omitempty"`
}

// A field tagged secret:"true" in the values of a map (remotes by name) is
// as secret as one in a struct or a list: Dump masks it and an error does
// not repeat it.
func TestSecretFieldsInMapsAreMasked(t *testing.T) {
	spec := config.NewSpec("rm", remotes{})
	c, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{
		`TITAN_RM__BY_NAME={"billing":{"url":"nats://b","dsn":"pg://map-S3CRET"}}`,
		`TITAN_RM__ZONES={"eu":{"billing":{"url":"nats://e","dsn":"pg://zone-S3CRET"}}}`,
	}}, spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"yaml", "json"} {
		var out bytes.Buffer
		if err := c.Dump(&out, format); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "S3CRET") || !strings.Contains(out.String(), "nats://b") {
			t.Errorf("%s dump shows a secret, or hides what is not one:\n%s", format, out.String())
		}
	}

	_, err = config.Load(config.Options{NoDefaultFile: true, Environ: []string{
		`TITAN_RM__BY_NAME={"billing":{"url":"nats://b","dsn":"bad-S3CRET"}}`,
	}}, spec)
	var ve *config.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "rm.byName.billing.dsn") {
		t.Fatalf("want a problem at rm.byName.billing.dsn, got %v", err)
	}
	if strings.Contains(err.Error(), "S3CRET") {
		t.Errorf("the error repeats the secret: %v", err)
	}
}
