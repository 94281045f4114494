package netron_test

import (
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A negative limit or timeout is refused by New, naming the key.
func TestConfigRefusesNegativeLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  netron.Config
		want string
	}{
		{netron.Config{MaxCallsPerPeer: -1}, "netron.maxCallsPerPeer is -1; want 1 or more (0 for the default, 256)"},
		{netron.Config{MaxQueuedBytesPerPeer: -1}, "netron.maxQueuedBytesPerPeer is -1; want 1 or more"},
		{netron.Config{MaxQueuedBytes: -1}, "netron.maxQueuedBytes is -1; want 1 or more"},
		{netron.Config{WriteStallTimeout: -time.Second}, "netron.writeStallTimeout is -1s; want a positive duration"},
		{netron.Config{PingTimeout: -time.Second}, "netron.pingTimeout is -1s; want a positive duration"},
		{netron.Config{MaxPeerIDBytes: -1}, "netron.maxPeerIDBytes is -1; want 1 or more"},
		{netron.Config{StreamIdleTimeout: -time.Second}, "netron.streamIdleTimeout is -1s; want a positive duration (0 for the default, 1m0s)"},
		{netron.Config{Reconnect: netron.ReconnectConfig{Min: -time.Second, Max: -time.Second}}, "netron.reconnect.min is -1s"},
		{netron.Config{MaxStreamsPerPeer: -1}, "netron.maxStreamsPerPeer is -1"},
		// Above what a peer takes: its streams would stall (the schema
		// says so for a file; a Config built in Go passed).
		{netron.Config{StreamWindow: 65537}, "netron.streamWindow is 65537; want at most 65536 items"},
		// The schema's other bounds, which a Config built in Go passed:
		// 100-byte frames failed every handshake with a bare EOF.
		{netron.Config{MaxFrameSize: 100}, "netron.maxFrameSize is 100; want at least 1024 (0 for the default, 16777216)"},
		{netron.Config{MaxFrameSize: 1<<30 + 1}, "netron.maxFrameSize is 1073741825; want at most 1073741824"},
		{netron.Config{MaxDepth: 2}, "netron.maxDepth is 2; want at least 8 (0 for the default, 128)"},
		{netron.Config{MaxQueuedBytesPerPeer: 100}, "netron.maxQueuedBytesPerPeer is 100; want at least 65536"},
		{netron.Config{MaxQueuedBytes: 100}, "netron.maxQueuedBytes is 100; want at least 1048576"},
		{netron.Config{MaxPeerIDBytes: 3}, "netron.maxPeerIDBytes is 3; want at least 36 (0 for the default, 256)"},
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
