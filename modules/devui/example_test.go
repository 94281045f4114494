package devui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/netron"
)

// The UI of a Netron of this process, served by a server of its own, and
// a call through its API as the page makes it. In an app, the module
// does this when devui.enabled is on.
func ExampleNewHandler() {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		panic(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calc", "1.0.0", Calc{}, netron.WithMethod("add", netron.WithArgs("a", "b"))); err != nil {
		panic(err)
	}
	h := devui.NewHandler(devui.Local(n, nil))
	defer h.Close()
	srv := httptest.NewServer(devui.Standalone(h))
	defer srv.Close()

	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Post(srv.URL+devui.BasePath+"api/call", "application/json",
		strings.NewReader(`{"service": "calc@1.0.0", "method": "add", "args": [2, 3]}`))
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var answer struct {
		Result float64 `json:"result"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		panic(err)
	}
	fmt.Println(res.StatusCode, answer.Result)
	// Output: 200 5
}
