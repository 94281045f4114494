package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/config"
)

// A map key made of digits (a port, a shard number) is a key, not a list
// index: a secret field in its value is as secret as under any other key,
// and an error about it does not repeat it.
func TestSecretFieldUnderNumericMapKeyIsNotRepeated(t *testing.T) {
	spec := config.NewSpec("rm", remotes{})
	_, err := config.Load(config.Options{NoDefaultFile: true, Environ: []string{
		`TITAN_RM__BY_NAME={"5432":{"url":"nats://b","dsn":"bad-S3CRET"}}`,
	}}, spec)
	var ve *config.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "rm.byName.5432.dsn") {
		t.Fatalf("want a problem at rm.byName.5432.dsn, got %v", err)
	}
	if strings.Contains(err.Error(), "S3CRET") {
		t.Errorf("the error repeats the secret: %v", err)
	}
}
