package titan_test

import (
	"io"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/titantest"
)

// The http section configures every http:// gateway of an app, as the
// listen URL's deprecated query did: http.prefix serves the routes under
// it too, http.maxBatch bounds a batch; a bad value fails start-up naming
// its key.
func TestHTTPSection(t *testing.T) {
	t.Parallel()
	app := titantest.StartApp(t,
		titan.Service("calculator", "1.0.0", NewCalculator, titan.HTTP("/api/calculator")),
		titantest.WithSettings("netron.listen=http://127.0.0.1:0", "http.prefix=/gw", "http.maxBatch=2", "http.writeTimeout=5s"))
	res, err := testsrv.HTTPClient.Post(app.Addr(t, "http")+"/gw/api/calculator/add", "application/json", strings.NewReader("[1,2]"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "3" {
		t.Fatalf("POST /gw/api/calculator/add: %d %s", res.StatusCode, body)
	}
	add := `{"id":"q","service":"calculator@1.0.0","method":"add","input":[1,2]}`
	res, err = testsrv.HTTPClient.Post(app.Addr(t, "http")+"/netron/batch", "application/json", strings.NewReader(`{"id":"b","requests":[`+add+","+add+","+add+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !strings.Contains(string(body), "limit of 2 requests per batch (http.maxBatch") {
		t.Fatalf("a batch of 3 with http.maxBatch=2: %d %s", res.StatusCode, body)
	}
	err = titan.New(titan.WithConfig(quiet("http.maxBody=-5"))).Err()
	if err == nil || !strings.Contains(err.Error(), "http.maxBody") {
		t.Fatalf("http.maxBody=-5: %v, want an error naming http.maxBody", err)
	}
}
