package main

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
)

// sockets counts this process's open sockets.
func sockets(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// TestConnsColumnHolds: a row's conns column is the number of client
// connections it really used (README: one shared client connection): at
// 256 callers, neither the bound and discovered rows, whose titan.Remote
// client balances over a pool, nor connect, whose HTTP/2 client opens
// another connection past the server's stream limit, may open more
// connections than they report.
func TestConnsColumnHolds(t *testing.T) {
	for _, name := range []string{"raw", "netron-tcp", "netron-tcp-bound", "netron-tcp-discovered", "grpc", "connect", "nats"} {
		t.Run(name, func(t *testing.T) {
			const conc = 256
			b, err := systems[name].setup(caseSpec{Sys: name, Mode: "unary", Family: familyString, Payload: 32, Conc: conc})
			if err != nil {
				t.Fatal(err)
			}
			defer b.cleanup()
			if err := b.unary(context.Background(), "x"); err != nil {
				t.Fatal(err)
			}
			before := sockets(t)
			var wg sync.WaitGroup
			for range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 50 {
						if err := b.unary(context.Background(), "x"); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			// Each connection in the process is two sockets: the client's
			// and the server's.
			if extra := (sockets(t) - before) / 2; extra > 0 {
				t.Errorf("%d callers used %d connections; the row reports conns %d", conc, b.conns+extra, b.conns)
			}
		})
	}
}
