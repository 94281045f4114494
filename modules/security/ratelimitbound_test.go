package security_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
)

// A rate limit the limiters cannot count exactly (calls times window in
// milliseconds of 2^53 or more) fails start-up, naming the limit.
func TestRateLimitBeyondExactFailsStart(t *testing.T) {
	t.Parallel()
	app := titan.New(
		titan.WithConfig(config.Options{Sets: []string{"logger.level=error", "netron.listen=tcp://127.0.0.1:0"}, Environ: []string{}, NoWatch: true}),
		titan.Service("meter", "1.0.0", func() Meter { return Meter{} }, titan.RateLimit(1<<53, time.Millisecond)),
	)
	err := app.Start(context.Background())
	if err == nil {
		_ = app.Stop(context.Background())
		t.Fatal("the app started")
	}
	if want := "RateLimit(9007199254740992, 1ms): 9007199254740992 calls times 1 ms of window reach 2^53"; !strings.Contains(err.Error(), want) {
		t.Fatalf("start: %v\nwant it to say %q", err, want)
	}
}
