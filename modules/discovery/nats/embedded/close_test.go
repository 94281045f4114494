package embedded_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery/nats/embedded"
)

// A member that closes its registry (its app stops) says nothing about
// losing the machine's server, and does not try to host it on its way
// out: only the host's own end is a loss.
func TestMemberCloseIsNoLoss(t *testing.T) {
	ctx := context.Background()
	url := fmt.Sprintf("nats-embedded://127.0.0.1:%d", testsrv.FreePort(t))
	host, err := embedded.Open(ctx, url, "titan", time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	var logs testsrv.LogBuffer
	member, err := embedded.Open(ctx, url, "titan", time.Second, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := member.Close(); err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); strings.Contains(s, "lost the machine's embedded NATS server") || strings.Contains(s, "hosting") {
		t.Errorf("a member closing its registry logged:\n%s", s)
	}
	if !host.Hosting() {
		t.Error("the host stopped hosting when a member closed")
	}
}

// The host closing its registry says nothing about losing the server it
// stops itself.
func TestHostCloseIsNoLoss(t *testing.T) {
	ctx := context.Background()
	url := fmt.Sprintf("nats-embedded://127.0.0.1:%d", testsrv.FreePort(t))
	var logs testsrv.LogBuffer
	host, err := embedded.Open(ctx, url, "titan", time.Second, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !host.Hosting() {
		t.Fatal("the first registry does not host the server")
	}
	if err := host.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // a late callback of the connection would log now
	if s := logs.String(); strings.Contains(s, "lost the machine's embedded NATS server") {
		t.Errorf("the host closing its registry logged:\n%s", s)
	}
}
