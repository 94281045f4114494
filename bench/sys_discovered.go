package main

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
)

// EchoClient is Echo's client as an app declares it for titan.Remote.
type EchoClient struct {
	Echo        func(ctx context.Context, s string) (string, error)
	Repeat      func(ctx context.Context, s string, n int) iter.Seq2[string, error]
	Bytes       func(ctx context.Context, b []byte) ([]byte, error)
	RepeatBytes func(ctx context.Context, b []byte, n int) iter.Seq2[[]byte, error]
	User        func(ctx context.Context, u User) (User, error)
	RepeatUser  func(ctx context.Context, u User, n int) iter.Seq2[User, error]
	Page        func(ctx context.Context, p Page) (Page, error)
	RepeatPage  func(ctx context.Context, p Page, n int) iter.Seq2[Page, error]
}

func init() {
	register("netron-tcp-bound", system{
		note:  "two titan apps: titan.Service, and a titan.Remote client at a fixed address (titan.At); validated",
		setup: func(c caseSpec) (*bench, error) { return setupApps(c, false) },
	})
	register("netron-tcp-discovered", system{
		note:  "same, the titan.Remote client finds the service in the discovery registry (memory) and balances over it",
		setup: func(c caseSpec) (*bench, error) { return setupApps(c, true) },
	})
}

// setupApps starts a titan app serving Echo on tcp:// and a client app
// whose titan.Remote reaches it at its address, or through discovery.
func setupApps(c caseSpec, discovered bool) (*bench, error) {
	reg := memory.New(15 * time.Second)
	shared := titan.Decorate(func(discovery.Registry) discovery.Registry { return reg })
	quiet := func(sets ...string) titan.Option {
		return titan.WithConfig(config.Options{Sets: append([]string{"logger.level=error"}, sets...), Environ: []string{}, NoWatch: true})
	}
	var addr string
	server := titan.New(quiet("netron.listen=tcp://127.0.0.1:0"), shared,
		titan.Service("echo", "1.0.0", func() Echo { return Echo{} }))
	if err := server.Start(context.Background()); err != nil {
		return nil, err
	}
	ins, err := reg.Discover(context.Background(), discovery.Query{Service: "echo"})
	if err != nil || len(ins) != 1 {
		server.Stop(context.Background())
		return nil, fmt.Errorf("the echo service is registered %d times (%v), want once", len(ins), err)
	}
	addr = ins[0].Addrs[0]
	var client EchoClient
	remote := titan.Remote[EchoClient]("echo@^1", titan.At(addr))
	if discovered {
		remote = titan.Remote[EchoClient]("echo@^1")
	}
	// One connection to the service, as every row but HTTP/1.1's has
	// (README): the pool would open more past 128 calls in flight.
	app := titan.New(quiet("netron.pool.maxConns=1"), shared, remote, titan.Invoke(func(c EchoClient) { client = c }))
	if err := app.Start(context.Background()); err != nil {
		server.Stop(context.Background())
		return nil, err
	}
	b := boundCalls(c.Family, &client)
	b.conns = 1
	b.cleanup = func() {
		app.Stop(context.Background())
		server.Stop(context.Background())
	}
	return b, nil
}

// boundCalls are the calls of a family through a bound client.
func boundCalls(family string, c *EchoClient) *bench {
	switch family {
	case familyBytes:
		return &bench{
			unary: func(ctx context.Context, payload string) error {
				out, err := c.Bytes(ctx, payloadBytes(payload))
				if err != nil {
					return err
				}
				return echoed(out, payload)
			},
			stream: func(ctx context.Context, payload string, count int) (int, error) {
				return streamed(c.RepeatBytes(ctx, payloadBytes(payload), count), func(b []byte) error { return echoed(b, payload) })
			},
		}
	case familyMessage:
		return &bench{
			unary: func(ctx context.Context, _ string) error {
				out, err := c.User(ctx, theUser)
				if err != nil {
					return err
				}
				return sameUser(out, theUser)
			},
			stream: func(ctx context.Context, _ string, count int) (int, error) {
				return streamed(c.RepeatUser(ctx, theUser, count), func(u User) error { return sameUser(u, theUser) })
			},
		}
	case familyList:
		return &bench{
			unary: func(ctx context.Context, _ string) error {
				out, err := c.Page(ctx, thePage)
				if err != nil {
					return err
				}
				return samePage(out, thePage)
			},
			stream: func(ctx context.Context, _ string, count int) (int, error) {
				return streamed(c.RepeatPage(ctx, thePage, count), func(pg Page) error { return samePage(pg, thePage) })
			},
		}
	}
	return &bench{
		unary: func(ctx context.Context, payload string) error {
			out, err := c.Echo(ctx, payload)
			if err != nil {
				return err
			}
			return echoed(out, payload)
		},
		stream: func(ctx context.Context, payload string, count int) (int, error) {
			return streamed(c.Repeat(ctx, payload, count), func(s string) error { return echoed(s, payload) })
		},
	}
}
