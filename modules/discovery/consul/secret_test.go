package consul_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/discovery/consul"
)

// The error of a discovery.url that is wrong names it without its
// password or token: it goes to the logs, and into start-up errors.
func TestURLErrorKeepsTheSecretOut(t *testing.T) {
	for _, url := range []string{"htp://user:s3cret@127.0.0.1:8500", "http://s3cret@/", "redis://:s3cret@127.0.0.1:8500"} {
		_, err := consul.Open(context.Background(), url, time.Second, nil)
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "discovery.url") {
			t.Errorf("Open(%s): %v; want an error naming discovery.url, without the secret", url, err)
		}
	}
}
