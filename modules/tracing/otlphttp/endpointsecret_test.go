package otlphttp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/tracing"
	"github.com/titanframework/titan/modules/tracing/otlphttp"
)

// An endpoint refused for the credentials it carries is named in the error
// without them, however they are written: a password that does not parse
// as a URL's (a stray '%'), a token as the user, a key in the query.
func TestRefusedEndpointKeepsItsCredentialsOutOfTheError(t *testing.T) {
	t.Parallel()
	for _, endpoint := range []string{
		"https://user:pa%zzS3CRET@collector:4318",
		"https://S3CRET@collector:4318",
		"user:S3CRET@collector:4318",
		"https://collector:4318/v1/traces?api_key=S3CRET",
	} {
		_, err := otlphttp.New(context.Background(), tracing.Config{Exporter: otlphttp.Name, Endpoint: endpoint})
		if err == nil || !strings.Contains(err.Error(), "tracing.endpoint") || !strings.Contains(err.Error(), "collector:4318") {
			t.Errorf("%q: %v; want an error naming tracing.endpoint and the collector", endpoint, err)
			continue
		}
		if strings.Contains(err.Error(), "S3CRET") {
			t.Errorf("%q: the error shows the credentials: %v", endpoint, err)
		}
	}
}
