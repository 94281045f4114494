package titan_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
)

// TestAdmin: titan.Admin sets the app's default for metrics.listen, where
// the admin server then serves /healthz; a --set value replaces it, as it
// replaces any default.
func TestAdmin(t *testing.T) {
	t.Parallel()
	addr := fmt.Sprintf("127.0.0.1:%d", testsrv.FreePort(t))
	app := titan.New(titan.Admin(addr), titan.WithConfig(quiet()))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	if got, src := app.Config().Get("metrics.listen"), app.Config().Source("metrics.listen"); got != addr {
		t.Fatalf("metrics.listen = %v (from %s), want %s", got, src, addr)
	}
	resp, err := testsrv.HTTPClient.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /healthz = %s", resp.Status)
	}

	other := titan.New(titan.Admin(addr), titan.WithConfig(quiet("metrics.listen=127.0.0.1:1")))
	if got := other.Config().Get("metrics.listen"); got != "127.0.0.1:1" {
		t.Fatalf("with --set: metrics.listen = %v, want the flag's", got)
	}

	for _, tt := range []struct {
		opt  titan.Option
		want string
	}{
		{titan.Admin(""), `Admin(""): want an address`},
		{titan.Module("m", titan.Admin(addr)), "app-level option"},
	} {
		if err := titan.New(tt.opt, titan.WithConfig(quiet())).Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.opt, err, tt.want)
		}
	}

	// One admin server: a second address is not silently the only one.
	err = titan.New(titan.Admin("127.0.0.1:1"), titan.Admin(":2"), titan.WithConfig(quiet())).Err()
	if want := `Admin(":2") conflicts with Admin("127.0.0.1:1"): an app has one admin server`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("two Admin options: %v, want %q", err, want)
	}
	if err := titan.New(titan.Admin(addr), titan.Admin(addr), titan.WithConfig(quiet())).Err(); err != nil {
		t.Errorf("the same Admin twice: %v", err)
	}
}
