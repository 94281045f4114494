package devui_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/titantest"
)

// The event monitor leaves out, without a word, the events of names the
// app restricts (security.events) from a token that may not subscribe to
// them, as the engine does for a connection: an admin watching ">" has
// attempted nothing. Before, each such event logged a warning that the
// admin's subscription was refused.
func TestEventFeedFilterLogsNoRefusal(t *testing.T) {
	t.Parallel()
	var logs testsrv.LogBuffer
	app := titantest.StartApp(t,
		titantest.WithSettings("netron.listen=http://127.0.0.1:0", "devui.enabled=true",
			"security.jwt.secret="+testSecret, "security.jwt.algorithms=HS256",
			`security.events=[{"topic":"orders.>","roles":["auditor"]}]`),
		titan.WithLogger(logger.WithHandler(slog.NewTextHandler(&logs, nil))),
		calcService())
	f := openFeed(t, app.Addr(t, "http")+devui.BasePath)
	f.subscribe(">", token(t, "alice", "admin"))
	ctx := context.Background()
	for _, topic := range []string{"orders.created", "chat.message"} {
		if err := app.Netron().Emit(ctx, topic, topic); err != nil {
			t.Fatal(err)
		}
	}
	// The events are sent in order: orders.created was decided first.
	if ev, _ := f.next()["event"].(map[string]any); ev["topic"] != "chat.message" {
		t.Fatalf("an admin without the role auditor was shown %v, want chat.message only", ev)
	}
	if strings.Contains(logs.String(), "refused") {
		t.Errorf("the event monitor's filter logged a refusal:\n%s", logs.String())
	}
}
