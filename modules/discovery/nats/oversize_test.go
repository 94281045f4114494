package nats_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// Register refuses an instance whose entry would be longer than
// discovery.MaxEntryBytes, which every reader skips, saying why, rather
// than write it and let the app believe it registered.
func TestRegisterRefusesOversizeEntry(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := testsrv.NATS(t)
	r := open(t, url, prefix(t, url), time.Minute, nil)
	big := testsrv.Instance("big", "1.0.0")
	big.Metadata = map[string]string{"zone": "a", "blob": strings.Repeat("y", discovery.MaxEntryBytes)}
	err := r.Register(ctx, big)
	if err == nil {
		t.Fatal("Register of an instance with 1 MiB of metadata succeeded; want an error")
	}
	for _, want := range []string{strconv.Itoa(discovery.MaxEntryBytes), "discovery.MaxEntryBytes", "metadata", `"blob"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Register: %.300v; want it to name %s", err, want)
		}
	}
	if len(err.Error()) > 500 {
		t.Errorf("the error has %d bytes", len(err.Error()))
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(got) != 0 {
		t.Fatalf("Discover = %q, %v; want nothing", testsrv.IDs(got), err)
	}
	if err := r.Register(ctx, testsrv.Instance("small", "1.0.0")); err != nil {
		t.Fatal(err)
	}
}
