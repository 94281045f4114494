package redis_test

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/titanframework/titan/modules/security/ratelimit/redis"
)

func ExampleNew() {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer c.Close()
	l := redis.New(c, "myapp")
	d, err := l.Allow(context.Background(), "user:42", 100, time.Minute)
	switch {
	case err != nil:
		// Redis is down: let the call pass (fail-open) or refuse it
		// (fail-closed), as configured.
	case !d.Allowed:
		fmt.Println("resource_exhausted, retry after", d.RetryAfter)
	}
}
