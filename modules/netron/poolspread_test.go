package netron_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// While one instance of three is reconnecting, round-robin and random
// spread the calls evenly over the two connected: the share of the one
// passed over does not all fall on the instance after it.
func TestPoolSpreadsOverTheConnected(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		addrs   []string
		servers = map[string]*netron.Netron{}
	)
	for _, name := range []string{"a", "b", "c"} {
		s, addr := netron.ServeForTest(t, netron.Config{}, "tcp://127.0.0.1:0", map[string]any{"named": Instance{name}})
		addrs = append(addrs, addr)
		servers[name] = s
	}
	for _, balancer := range []string{netron.RoundRobin, netron.Random} {
		t.Run(balancer, func(t *testing.T) {
			client, err := netron.New(netron.Config{Reconnect: netron.ReconnectConfig{Min: time.Hour, Max: time.Hour}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Stop(context.Background())
			pool := startPool(t, client, "named@^1", resolverOf(addrs), netron.WithBalancer(balancer))
			var c struct {
				Who func(ctx context.Context) (string, error)
			}
			if err := pool.Bind(&c); err != nil {
				t.Fatal(err)
			}
			for _, sp := range servers["b"].Peers() { // b's connection ends: reconnecting in an hour
				_ = sp.Close()
			}
			// b's connection has ended once calls stop reaching it (a call
			// under way as it ends may fail)
			for without := 0; without < 12; {
				if ctx.Err() != nil {
					t.Fatal("calls still reach b")
				}
				if who, err := c.Who(ctx); err != nil || who == "b" {
					without = 0
					time.Sleep(time.Millisecond)
				} else {
					without++
				}
			}
			counts := map[string]int{}
			for range 600 {
				who, err := c.Who(ctx)
				if err != nil {
					t.Fatal(err)
				}
				counts[who]++
			}
			// Evenly: 300 each (random: 240 is five standard deviations
			// off); passing over b by taking the next one gave c two
			// thirds.
			if counts["b"] != 0 || counts["a"] < 240 || counts["c"] < 240 {
				t.Errorf("%s over a, c (b reconnecting) gave %v, want about 300 each to a and c", balancer, counts)
			}
		})
	}
}
