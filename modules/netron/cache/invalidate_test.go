package cache_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/titanframework/titan/modules/netron/cache"
)

// Prices answers with the price it reads, and can be held after reading
// it: a call that read the price before a change and answers after it.
type Prices struct {
	price   *atomic.Int64
	read    chan struct{} // told when a held call has read the price
	release chan struct{} // lets a held call answer
	hold    *atomic.Bool
}

func (p Prices) Get(_ context.Context, sku string) (int64, error) {
	v := p.price.Load()
	if p.hold.CompareAndSwap(true, false) {
		p.read <- struct{}{}
		<-p.release
	}
	return v, nil
}

// TestInvalidateDuringCall: a result computed before an Invalidate and
// answered after it is not kept, so the invalidation a change of the data
// asks for is not undone by a call that read the old data.
func TestInvalidateDuringCall(t *testing.T) {
	c := cache.New(100)
	defer c.Close()
	var price atomic.Int64
	var hold atomic.Bool
	p := Prices{price: &price, read: make(chan struct{}), release: make(chan struct{}), hold: &hold}
	n := cachedNetron(t, c, "prices", p)
	get := func() (any, error) {
		return n.Invoke(context.Background(), invocation(t, "prices@1.0.0", "get", "sku-1"))
	}

	price.Store(100)
	hold.Store(true)
	done := make(chan error, 1)
	go func() {
		v, err := get()
		if err == nil && v != int64(100) {
			t.Errorf("the held call answered %v, want 100 (what it read)", v)
		}
		done <- err
	}()
	<-p.read // the held call has read 100
	price.Store(200)
	c.Invalidate("prices")
	close(p.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	v, err := get()
	if err != nil {
		t.Fatal(err)
	}
	if v != int64(200) {
		t.Fatalf("get after the price changed and the cache was invalidated = %v, want 200: the held call kept its stale result", v)
	}
}
