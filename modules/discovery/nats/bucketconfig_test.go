package nats_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/titanframework/titan/internal/testsrv"
)

// An app whose discovery.ttl is longer than the bucket's age limit raises
// the limit, and changes nothing else of a bucket it shares: not the
// history, size limit or description an operator who made the bucket
// gave it.
func TestRaisingTheAgeKeepsTheBucketsConfiguration(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := prefix(t, url)
	js := jetStream(t, url)
	made := jetstream.KeyValueConfig{Bucket: p + "_discovery", TTL: time.Second, History: 5, MaxBytes: 1 << 20, Description: "provisioned by the operator"}
	if _, err := js.CreateKeyValue(ctx, made); err != nil {
		t.Fatal(err)
	}
	open(t, url, p, time.Minute, nil)
	kv, err := js.KeyValue(ctx, made.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config
	if st.TTL() != time.Minute {
		t.Errorf("age limit %v, want it raised to 1m", st.TTL())
	}
	if st.History() != 5 || cfg.MaxBytes != 1<<20 || cfg.Description != made.Description {
		t.Errorf("raising the age limit changed the bucket: history %d, max bytes %d, description %q; want %d, %d, %q",
			st.History(), cfg.MaxBytes, cfg.Description, made.History, made.MaxBytes, made.Description)
	}
}
