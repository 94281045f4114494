package nats_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
)

// The error of a NATS server that does not answer names it without the
// password of its URL: it goes to the logs, and into start-up errors.
func TestOpenErrorKeepsThePasswordOut(t *testing.T) {
	t.Parallel()
	url := fmt.Sprintf("nats://titan:s3cret@127.0.0.1:%d", testsrv.FreePort(t))
	_, err := dnats.Open(context.Background(), url, "titan", time.Second, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("Open: %v; want it to name the server, without its password", err)
	}
}
