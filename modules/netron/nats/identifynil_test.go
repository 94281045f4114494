package nats_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
)

// nilAccess is an Access whose Identify returns no context and no error.
type nilAccess struct{}

func (nilAccess) Identify(context.Context, netron.Credentials) (context.Context, error) {
	return nil, nil
}

func (nilAccess) Visible(context.Context, *netron.MethodSpec) bool { return true }

// An Identify that returns no context and no error fails a call over NATS
// with internal, and the gateway logs that the Access returned neither,
// as the HTTP gateway does; no panic is logged. That holds for a call
// whose target is a range too, which the caller resolves first. The call
// used to go on with no context, panic, and be answered internal by the
// panic's recovery, its stack in the log.
func TestIdentifyReturningNoContext(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"calculator@1.0.0", "calculator@^1"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			var logs testsrv.LogBuffer
			addr := testURL(t)
			n, err := netron.New(netron.Config{}, slog.New(slog.NewTextHandler(&logs, nil)), netron.WithAccess(nilAccess{}))
			if err != nil {
				t.Fatal(err)
			}
			serveOnNATS(t, n, addr, "calculator", "1.0.0", newCalc())
			p := dial(t, addr, netron.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = p.Call(ctx, target, "work", 1)
			if netron.CodeOf(err) != netron.CodeInternal {
				t.Fatalf("a call of %s whose Identify returns neither a context nor an error: %v, want internal\n%s", target, err, logs.String())
			}
			out := logs.String()
			if !strings.Contains(out, "the Access's Identify returned no context and no error") || strings.Contains(out, "panic") {
				t.Fatalf("the gateway logged:\n%s\nwant the Access named as returning no context and no error, and no panic", out)
			}
		})
	}
}
