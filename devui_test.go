package titan_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/titantest"
)

// TestDevUI: the development UI is off by default; titan.DevUI() sets the
// app's default for devui.enabled, which serves the page under /_titan/
// on the app's http:// listeners, and --set devui.enabled=false still
// turns it off.
func TestDevUI(t *testing.T) {
	t.Parallel()
	page := func(t *testing.T, opts ...titan.Option) int {
		t.Helper()
		app := titantest.StartApp(t, opts...)
		res, err := testsrv.HTTPClient.Get(app.Addr(t, "http") + "/_titan/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	listen := "netron.listen=http://127.0.0.1:0"
	if got := page(t, titantest.WithSettings(listen)); got != http.StatusNotFound {
		t.Errorf("by default: GET /_titan/ = %d, want 404", got)
	}
	if got := page(t, titan.DevUI(), titantest.WithSettings(listen)); got != http.StatusOK {
		t.Errorf("with DevUI(): GET /_titan/ = %d, want 200", got)
	}
	if got := page(t, titan.DevUI(), titantest.WithSettings(listen, "devui.enabled=false")); got != http.StatusNotFound {
		t.Errorf("with DevUI() and --set devui.enabled=false: GET /_titan/ = %d, want 404", got)
	}
	err := titan.New(titan.Module("m", titan.DevUI()), titantest.WithSettings()).Err()
	if err == nil || !strings.Contains(err.Error(), "DevUI() is an app-level option") {
		t.Errorf("DevUI inside a Module: %v", err)
	}
}
