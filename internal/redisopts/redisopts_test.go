package redisopts_test

import (
	"context"
	"net"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/titanframework/titan/internal/redisopts"
)

func TestBounds(t *testing.T) {
	o, err := redisopts.Parse("redis://127.0.0.1:6379/2")
	if err != nil {
		t.Fatal(err)
	}
	if o.DialTimeout != time.Second || o.ReadTimeout != time.Second || o.WriteTimeout != time.Second || o.PoolTimeout != time.Second {
		t.Errorf("timeouts dial %v read %v write %v pool %v, want 1s each", o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout)
	}
	if o.MaxRetries != 1 || o.DialerRetries != 1 {
		t.Errorf("retries %d, dial retries %d, want 1 and 1", o.MaxRetries, o.DialerRetries)
	}
	if o.Addr != "127.0.0.1:6379" || o.DB != 2 {
		t.Errorf("addr %s db %d, want the URL's", o.Addr, o.DB)
	}
}

// A bound the URL sets is the user's choice.
func TestURLBoundsKept(t *testing.T) {
	o, err := redisopts.Parse("redis://127.0.0.1:6379/0?dial_timeout=3s&read_timeout=250ms&write_timeout=4s&pool_timeout=5s&max_retries=4")
	if err != nil {
		t.Fatal(err)
	}
	if o.DialTimeout != 3*time.Second || o.ReadTimeout != 250*time.Millisecond || o.WriteTimeout != 4*time.Second || o.PoolTimeout != 5*time.Second || o.MaxRetries != 4 {
		t.Errorf("got dial %v read %v write %v pool %v retries %d, want the URL's", o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries)
	}
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/notadb", "redis://127.0.0.1:6379/0?read_timeout=soon"} {
		if _, err := redisopts.Parse(u); err == nil {
			t.Errorf("%s: no error", u)
		}
	}
}

// A command ends at its context's deadline, before the read timeout, on a
// Redis that accepts connections and never answers: a stop or a request
// with a shorter deadline is not held for the read timeout and its retry.
func TestContextDeadlineBoundsACommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // read nothing, answer nothing
		}
	}()
	o, err := redisopts.Parse("redis://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Ping(ctx).Err()
	if took := time.Since(start); err == nil || took > 600*time.Millisecond {
		t.Fatalf("PING with a 100ms deadline to a Redis that never answers: %v after %v, want an error within the deadline", err, took)
	}
}
