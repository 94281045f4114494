package consul_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// Each app talks to the Consul agent of its own node: Health answers for
// an instance registered through another node's agent, as Discover lists
// it, instead of "no such instance" (the agent's own endpoint knows its
// node's services only).
func TestHealthOfAnInstanceOfAnotherNode(t *testing.T) {
	f := newFakeAgent(t)
	ctx := context.Background()
	here := open(t, f.url(), 300*time.Millisecond)
	there := open(t, f.join(t, "node2"), 300*time.Millisecond)
	alive, crashed := instance("app2/users@1.0.0", "1.0.0"), instance("app3/users@1.0.0", "1.0.0")
	alive.Health = discovery.Draining
	for _, in := range []discovery.Instance{alive, crashed} {
		if err := there.Register(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := here.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != crashed.ID {
		t.Fatalf("Discover = %q, %v; want %s (the healthy one)", testsrv.IDs(got), err, crashed.ID)
	}
	if h, err := here.Health(ctx, alive.ID); err != nil || h != discovery.Draining {
		t.Errorf("Health of an instance of another node = %q, %v; want draining", h, err)
	}
	if _, err := here.Health(ctx, "app9/users@1.0.0"); !errors.Is(err, discovery.ErrNotFound) {
		t.Errorf("Health of an id no node holds: %v, want ErrNotFound", err)
	}
	local := instance("app1/users@1.0.0", "1.0.0")
	if err := here.Register(ctx, local); err != nil {
		t.Fatal(err)
	}
	if h, err := here.Health(ctx, local.ID); err != nil || h != discovery.Healthy {
		t.Errorf("Health of an instance of this node = %q, %v; want healthy", h, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := there.Register(ctx, alive); err != nil { // alive heartbeats; crashed and local do not
			t.Fatal(err)
		}
		h, err := here.Health(ctx, crashed.ID)
		hl, errl := here.Health(ctx, local.ID)
		if err == nil && h == discovery.Unhealthy && errl == nil && hl == discovery.Unhealthy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5s after they crashed (TTL 300ms), Health of an instance of another node = %q, %v, of this node = %q, %v; want unhealthy", h, err, hl, errl)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The agent's refusal to tell an instance's health (an ACL token without
// service:read, an agent failing) is Health's error as the agent said it,
// not a JSON syntax error from reading its answer as an instance.
func TestHealthRefusedNamesTheRefusal(t *testing.T) {
	for name, answer := range map[string]struct {
		code int
		body string
	}{
		"ACL denied":   {http.StatusForbidden, "Permission denied: token lacks permission 'service:read'"},
		"agent failed": {http.StatusInternalServerError, "rpc error: No cluster leader"},
	} {
		t.Run(name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v1/status/leader", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`"127.0.0.1:8300"`)) })
			mux.HandleFunc("GET /v1/agent/health/service/id/{id}", func(w http.ResponseWriter, r *http.Request) { http.Error(w, answer.body, answer.code) })
			srv := httptest.NewServer(mux)
			defer srv.Close()
			r := open(t, srv.URL, time.Minute)
			h, err := r.Health(context.Background(), "app1/users@1.0.0")
			if err == nil || !strings.Contains(err.Error(), answer.body) || !strings.Contains(err.Error(), "app1/users@1.0.0") {
				t.Errorf("Health with the agent answering %d %q = %q, %v; want an error naming the instance and the agent's answer", answer.code, answer.body, h, err)
			}
		})
	}
}
