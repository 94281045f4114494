package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
)

// Instances come and go (a new id each: a new process) while nobody
// reads their service: its index keeps a bound, instead of the id of
// every instance that ever registered, since only a read took expired
// ids out of it. A heartbeat takes them out too.
func TestIndexOfAnUnreadServiceStaysBounded(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	raw := rawClient(t, url)
	p := prefix(t, url)
	r := open(t, url, p, time.Minute, nil)
	const came = 200
	for i := range came {
		if err := r.Register(ctx, testsrv.Instance("steady", "1.0.0")); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("app%d/users@1.0.0", i)
		if err := r.Register(ctx, testsrv.Instance(id, "1.0.0")); err != nil {
			t.Fatal(err)
		}
		// Its entry expires (deleted here rather than waited for).
		if err := raw.Del(ctx, p+":discovery:instance:"+id).Err(); err != nil {
			t.Fatal(err)
		}
	}
	n, err := raw.SCard(ctx, p+":discovery:service:users").Result()
	if err != nil {
		t.Fatal(err)
	}
	if n > 10 {
		t.Errorf("the index of users holds %d ids after %d instances came and went unread, beside one live instance; want a bound (at most 10)", n, came)
	}
}
