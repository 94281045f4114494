package http_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	httptransport "github.com/titanframework/titan/modules/netron/http"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/http"
)

type Adder struct{}

func (Adder) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }

// Importing the package lets Netron listen on http:// addresses; a service
// with titan.HTTP (netron.WithHTTP) gets a JSON route per method, next to
// the /netron/invoke protocol of the TypeScript clients.
func Example() {
	ctx := context.Background()
	n, _ := netron.New(netron.Config{}, nil)
	_ = n.Register("calculator", "1.0.0", Adder{}, httptransport.Path("/api/calculator"))
	addr, err := n.Listen(ctx, "http://127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Stop(ctx)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}

	for _, req := range []struct{ path, body string }{
		{"/api/calculator/add", `[1,2]`},
		{"/netron/invoke", `{"id":"r1","service":"calculator@1.0.0","method":"add","input":[1,2]}`},
		{"/api/calculator/sub", `[1,2]`},
	} {
		res, err := c.Post(addr+req.path, "application/json", strings.NewReader(req.body))
		if err != nil {
			fmt.Println(err)
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body := string(b)
		if i := strings.Index(body, `,"hints"`); i > 0 {
			body = body[:i] + ",…}" // serverTime varies
		}
		if i := strings.Index(body, `"id":"`); res.StatusCode != 200 && i >= 0 {
			body = body[:i] + `"id":"…",` + body[strings.Index(body, `"success"`):] // a generated request id
		}
		fmt.Println(res.StatusCode, body)
	}
	// Output:
	// 200 3
	// 200 {"id":"r1","success":true,"data":3,…}
	// 404 {"id":"…","success":false,"error":{"code":"404","message":"service calculator@1.0.0 has no method \"sub\" (it has: add)","details":{"resource":"Method","service":"calculator@1.0.0","method":"sub","available":["add"]}}}
}
