package discovery

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The URL of a registry that does not answer is logged and put in errors
// without its password (redis://:password@host, nats://user:password@host).
func TestUnreachableRegistryKeepsThePasswordOutOfLogsAndErrors(t *testing.T) {
	var logs bytes.Buffer
	f := false
	c := Config{Backend: "unlinked", URL: "unlinked://user:s3cret@10.0.0.9:6379/0", Heartbeat: time.Hour, TTL: 2 * time.Hour, Required: &f}
	a := newAppRegistry(c, slog.New(slog.NewTextHandler(&logs, nil)))
	if err := a.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.stop(context.Background())
	err := a.Register(context.Background(), Instance{})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "10.0.0.9") {
		t.Errorf("Register: %v; want it to name the registry, without its password", err)
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the log shows the password:\n%s", logs.String())
	}
}
