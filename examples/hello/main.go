// Command hello is the smallest Titan app: one constructor that reads its
// configuration section and logs when the app starts and stops.
//
//	go run ./examples/hello
//	go run ./examples/hello --set hello.name=Ada --set hello.every=500ms
//	TITAN_HELLO__NAME=Grace go run ./examples/hello
//	go run ./examples/hello --print-config
//
// It listens nowhere, so the development UI needs a server of its own:
//
//	go run ./examples/hello --set devui.enabled=true --set devui.listen=127.0.0.1:7090
//
// Stop it with Ctrl-C.
package main

import (
	"context"
	"log/slog"
	"time"

	"go.uber.org/fx"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
)

// Config is the `hello` configuration section.
type Config struct {
	// Name is who to greet.
	Name string `json:"name" jsonschema:"minLength=1,description=Who to greet"`
	// Every is how often to greet while running; 0 greets only at start.
	Every time.Duration `json:"every" jsonschema:"description=How often to greet; 0 only at start"`
}

// Greeter greets while the app runs.
type Greeter struct {
	cfg  Config
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
}

// NewGreeter reads the hello section and hooks the greeter into the app's
// lifecycle; it starts nothing itself.
func NewGreeter(lc fx.Lifecycle, cfg *config.Config, log *slog.Logger) (*Greeter, error) {
	c, err := config.Section[Config](cfg, "hello")
	if err != nil {
		return nil, err
	}
	g := &Greeter{cfg: c, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	lc.Append(fx.Hook{OnStart: g.Start, OnStop: g.Stop})
	return g, nil
}

// Start greets and, when configured, keeps greeting in the background.
func (g *Greeter) Start(context.Context) error {
	g.log.Info("hello", "name", g.cfg.Name)
	go g.loop()
	return nil
}

func (g *Greeter) loop() {
	defer close(g.done)
	if g.cfg.Every <= 0 {
		<-g.stop
		return
	}
	t := time.NewTicker(g.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.log.Info("hello again", "name", g.cfg.Name)
		}
	}
}

// Stop ends the background greeting and says goodbye.
func (g *Greeter) Stop(ctx context.Context) error {
	close(g.stop)
	select {
	case <-g.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.log.Info("goodbye", "name", g.cfg.Name)
	return nil
}

func main() {
	titan.New(
		titan.ConfigSection("hello", Config{Name: "world"}),
		titan.Module("hello",
			titan.Provide(NewGreeter),
			titan.Invoke(func(*Greeter) {}),
		),
	).Run()
}
