package discovery_test

import (
	"testing"

	"github.com/titanframework/titan/modules/discovery"
)

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://:s3cret@127.0.0.1:6379/0":               "redis://:xxxxx@127.0.0.1:6379/0",
		"nats://u:s3cret@a:4222, nats://u:s3cret@b:4222": "nats://u:xxxxx@a:4222,nats://u:xxxxx@b:4222",
		"etcd://user:s3cret@deadhost:2379,livehost:2379": "etcd://user:xxxxx@deadhost:2379,livehost:2379",
		"nats://s3cret@127.0.0.1:4222":                   "nats://xxxxx@127.0.0.1:4222",
		"memory://":                                      "memory://",
		"consul://127.0.0.1:8500":                        "consul://127.0.0.1:8500",
		"%zz not a url":                                  "%zz not a url",
	} {
		if got := discovery.RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}
