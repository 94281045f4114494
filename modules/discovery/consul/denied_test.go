package consul_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/discovery"
)

// An agent that refuses the registry's calls (a token without the
// service:write or service:read it needs; Consul answers 403) gives
// errors that say they are discovery/consul's and name the call and its
// instance or service, not only Consul's "Unexpected response code: 403".
func TestRefusedCallsNameTheirInstanceOrService(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/status/leader" {
			_ = json.NewEncoder(w).Encode("127.0.0.1:8300")
			return
		}
		if strings.HasPrefix(r.URL.Path, "/v1/agent/health/service/id/") { // not this agent's: Health asks the cluster
			http.Error(w, "Unknown service ID", http.StatusNotFound)
			return
		}
		http.Error(w, "Permission denied", http.StatusForbidden)
	}))
	defer srv.Close()
	r := open(t, srv.URL, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in := instance("app1/users@1.0.0", "1.0.0")
	_, discoverErr := r.Discover(ctx, discovery.Query{Service: "users"})
	_, servicesErr := r.Services(ctx)
	_, healthErr := r.Health(ctx, in.ID)
	for _, c := range []struct {
		call string
		err  error
		want []string
	}{
		{"Register", r.Register(ctx, in), []string{"discovery/consul: Register of " + in.ID + ": ", "403"}},
		{"Deregister", r.Deregister(ctx, in.ID), []string{"discovery/consul: Deregister of " + in.ID + ": ", "403"}},
		{"Discover", discoverErr, []string{"discovery/consul: read the instances of users: ", "403"}},
		{"Services", servicesErr, []string{"discovery/consul: list the services: ", "403"}},
		{"Health", healthErr, []string{`consul: the health of instance "` + in.ID + `": `, "403"}},
	} {
		if c.err == nil {
			t.Errorf("%s succeeded on an agent that refuses every call", c.call)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(c.err.Error(), w) {
				t.Errorf("%s: %q; want it to say %q", c.call, c.err, w)
			}
		}
	}
}
