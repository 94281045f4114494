package cache_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Reports answers with the tenant its caller sends as metadata.
type Reports struct{}

func (Reports) Summary(ctx context.Context, month string) (string, error) {
	return netron.IncomingMetadata(ctx)["tenant"] + "'s summary for " + month, nil
}

// Lengths answers with the length of its argument.
type Lengths struct{ runs *int }

func (l Lengths) Of(_ context.Context, doc string) (int, error) {
	*l.runs++
	return len(doc), nil
}

// invoke calls method of service in process with one argument and
// metadata md.
func invoke(n *netron.Netron, service, method string, arg any, md map[string]string) any {
	raw, _ := protocol.AppendValue(nil, arg)
	v, err := n.Invoke(context.Background(), &netron.Invocation{Service: service, Method: method,
		Args: []protocol.RawValue{raw}, Metadata: md})
	if err != nil {
		return err
	}
	return v
}

// A method whose answer depends on its caller's tenant keeps one result
// per tenant.
func ExampleVaryBy() {
	c := cache.New(1000)
	defer c.Close()
	n, _ := netron.New(netron.Config{}, nil, netron.WithInterceptors(c))
	defer n.Stop(context.Background())
	_ = n.Register("reports", "1.0.0", Reports{}, netron.WithCache(time.Minute), cache.VaryBy("tenant"))

	fmt.Println(invoke(n, "reports@1.0.0", "summary", "May", map[string]string{"tenant": "acme", "trace": "1"}))
	fmt.Println(invoke(n, "reports@1.0.0", "summary", "May", map[string]string{"tenant": "globex", "trace": "2"}))
	fmt.Println(c.Stats().Entries)
	// Output:
	// acme's summary for May
	// globex's summary for May
	// 2
}

// With a budget of 1 MiB, a call whose arguments take more than 64 KiB
// is not kept: the method runs every time.
func ExampleWithMaxBytes() {
	c := cache.New(1000, cache.WithMaxBytes(1<<20))
	defer c.Close()
	n, _ := netron.New(netron.Config{}, nil, netron.WithInterceptors(c))
	defer n.Stop(context.Background())
	var runs int
	_ = n.Register("lengths", "1.0.0", Lengths{&runs}, netron.WithCache(time.Minute))

	for _, doc := range []string{"short", "short", strings.Repeat("x", 100<<10), strings.Repeat("x", 100<<10)} {
		invoke(n, "lengths@1.0.0", "of", doc, nil)
	}
	fmt.Println("runs:", runs)
	// Output:
	// runs: 3
}
