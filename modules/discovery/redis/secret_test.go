package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/discovery/redis"
)

// The error of a discovery.url that is wrong names it without its
// password: it goes to the logs, and into start-up errors.
func TestURLErrorKeepsThePasswordOut(t *testing.T) {
	_, err := redis.Open(context.Background(), "redis://:s3cret@127.0.0.1:6379/notadb", "titan", time.Second, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "127.0.0.1:6379") {
		t.Errorf("Open: %v; want it to name the URL, without its password", err)
	}
}
