package titan

import (
	"os"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"
)

// TestAwaitStop holds the one cause of a stop to what happened: fx relays
// SIGINT and SIGTERM on a channel of its own, which may be read before the
// app's; the signal must then be taken from the app's channel too, or the
// stop reads it as a second signal and exits at once with status 1 (seen in
// CI: a cluster member exited 1 on its only SIGINT).
func TestAwaitStop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fx      *fx.ShutdownSignal // what fx relays first, if anything
		os      os.Signal          // what reaches the app's channel
		late    time.Duration      // after fx's relay
		wantSig os.Signal
		code    int
	}{
		{name: "signal on the app's channel", os: syscall.SIGINT, wantSig: syscall.SIGINT},
		{name: "SIGINT relayed by fx first", fx: &fx.ShutdownSignal{Signal: syscall.SIGINT}, os: syscall.SIGINT, late: 300 * time.Millisecond, wantSig: syscall.SIGINT},
		{name: "SIGTERM relayed by fx first", fx: &fx.ShutdownSignal{Signal: syscall.SIGTERM}, os: syscall.SIGTERM, late: 20 * time.Millisecond, wantSig: syscall.SIGTERM},
		{name: "a module's fx.Shutdowner", fx: &fx.ShutdownSignal{Signal: syscall.SIGTERM, ExitCode: 3}, code: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sigs := make(chan os.Signal, 2)
			wait := make(chan fx.ShutdownSignal, 1)
			if tt.fx != nil {
				wait <- *tt.fx
			}
			if tt.os != nil {
				time.AfterFunc(tt.late, func() { sigs <- tt.os })
			}
			got := awaitStop(sigs, wait, 200*time.Millisecond)
			if got.sig != tt.wantSig || got.code != tt.code {
				t.Fatalf("awaitStop = {sig %v, code %d}, want {sig %v, code %d}", got.sig, got.code, tt.wantSig, tt.code)
			}
			if len(sigs) != 0 {
				t.Fatalf("the signal is still in the app's channel: the stop would read it as a second one")
			}
		})
	}
}
