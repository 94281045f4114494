// Command cluster runs one member of a cluster of greeters that find each
// other with nothing installed: start it three times, in three terminals,
//
//	go run ./examples/cluster --set cluster.name=a
//	go run ./examples/cluster --set cluster.name=b
//	go run ./examples/cluster --set cluster.name=c
//
// Each serves greeter@1.0.0 on a free TCP port and registers it in the
// machine's discovery registry: the first process hosts an embedded NATS
// server on 127.0.0.1:4248 (discovery.backend: nats with nats.embedded:
// true; nats.embedded.port moves it), the others join it, and when the
// host stops or dies another takes its place. Each also
// calls greeter@^1 every cluster.every (1 s) through a titan.Remote client
// that names only the service, and logs which member answered: calls
// spread round-robin over all members, and follow them as they come and
// go. Stop a member with Ctrl-C.
//
// With --set devui.enabled=true a member serves the development UI on an
// http:// listener, which its default netron.listen has not: add one,
// --set netron.listen=tcp://127.0.0.1:0,http://127.0.0.1:0 (it logs the
// page's URL).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	_ "github.com/titanframework/titan/modules/discovery/nats/embedded" // nats.embedded: true
)

// Config is the `cluster` configuration section.
type Config struct {
	// Name is this member's name, in its answers.
	Name string `json:"name" jsonschema:"minLength=1,description=This member's name"`
	// Every is how often the member greets the cluster.
	Every time.Duration `json:"every" jsonschema:"description=How often to call greeter@^1"`
}

// Greeter is the service every member serves.
type Greeter struct{ name string }

// NewGreeter reads the member's name.
func NewGreeter(cfg *config.Config) (*Greeter, error) {
	c, err := config.Section[Config](cfg, "cluster")
	if err != nil {
		return nil, err
	}
	return &Greeter{name: c.Name}, nil
}

// Hello greets who from this member.
func (g *Greeter) Hello(_ context.Context, who string) (string, error) {
	return fmt.Sprintf("hello %s, from %s", who, g.name), nil
}

// GreeterClient calls the greeters of the cluster.
type GreeterClient struct {
	Hello func(ctx context.Context, who string) (string, error)
}

// greet calls the cluster every cluster.every while the app runs. The
// interval must be positive (a ticker takes no other). Stopping the app
// cancels a call in flight and waits for the loop to end, within the stop
// timeout.
func greet(lc fx.Lifecycle, c GreeterClient, cfg *config.Config, log *slog.Logger) error {
	cc, err := config.Section[Config](cfg, "cluster")
	if err != nil {
		return err
	}
	if cc.Every <= 0 {
		return fmt.Errorf("cluster.every: want a positive duration, got %v", cc.Every)
	}
	// The loop's context, not OnStart's, which ends with the start-up;
	// OnStop cancels it.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				t := time.NewTicker(cc.Every)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
					callCtx, cancelCall := context.WithTimeout(ctx, cc.Every)
					answer, err := c.Hello(callCtx, cc.Name)
					cancelCall()
					switch {
					case ctx.Err() != nil: // stopping
						return
					case err != nil:
						log.Warn("greeting the cluster failed", "error", err)
					default:
						log.Info("greeted", "answer", answer)
					}
				}
			}()
			return nil
		},
		OnStop: func(stopCtx context.Context) error {
			cancel()
			select {
			case <-done:
				return nil
			case <-stopCtx.Done():
				return stopCtx.Err()
			}
		},
	})
	return nil
}

func main() {
	host, err := os.Hostname()
	if err != nil {
		host = "member" // the name is only a default: cluster.name sets it
	}
	titan.New(
		titan.ConfigSection("cluster", Config{Name: fmt.Sprintf("%s-%d", host, os.Getpid()), Every: time.Second}),
		titan.WithConfigDefault("netron.listen", []string{"tcp://127.0.0.1:0"}),
		titan.WithConfigDefault("discovery.backend", "nats"),
		titan.WithConfigDefault("nats.embedded", true),
		titan.Service("greeter", "1.0.0", NewGreeter, titan.Method("hello", titan.Idempotent())),
		titan.Remote[GreeterClient]("greeter@^1"),
		titan.Invoke(greet),
	).Run()
}
