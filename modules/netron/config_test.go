package netron_test

import (
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A negative limit or timeout is refused by New, naming the key.
func TestConfigRefusesNegativeLimits(t *testing.T) {
	for _, tc := range []struct {
		cfg  netron.Config
		want string
	}{
		{netron.Config{MaxCallsPerPeer: -1}, "netron: maxCallsPerPeer -1 is negative"},
		{netron.Config{MaxQueuedBytesPerPeer: -1}, "netron: maxQueuedBytesPerPeer -1 is negative"},
		{netron.Config{MaxQueuedBytes: -1}, "netron: maxQueuedBytes -1 is negative"},
		{netron.Config{WriteStallTimeout: -time.Second}, "netron: writeStallTimeout -1s is negative"},
		{netron.Config{PingTimeout: -time.Second}, "netron: pingTimeout -1s is negative"},
		{netron.Config{MaxPeerIDBytes: -1}, "netron: maxPeerIDBytes -1 is negative"},
	} {
		_, err := netron.New(tc.cfg, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v; want %q", tc.cfg, err, tc.want)
		}
	}
	// A negative idle timeout turns probing off.
	n, err := netron.New(netron.Config{IdleTimeout: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Config().IdleTimeout; got != -1 {
		t.Errorf("IdleTimeout -1 became %v; negative means off", got)
	}
}
