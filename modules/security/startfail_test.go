package security_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/titantest"
)

// An app with the security module that fails to start (a constructor
// after the guard's fails) leaves no goroutine behind: the guard starts
// nothing until it is used.
func TestFailedStartLeavesNothing(t *testing.T) {
	titantest.VerifyNoLeaks(t)
	s := newSigner(t)
	broken := errors.New("the database is unreachable")
	app := titan.New(
		titan.WithConfig(config.Options{Sets: []string{
			"logger.level=error",
			"netron.listen=tcp://127.0.0.1:0",
			"security.jwt.publicKeyFile=" + s.pubFile,
			"security.jwt.algorithms=RS256",
		}, Environ: []string{}, NoWatch: true}),
		vaultService(),
		titan.Provide(func() (*strings.Builder, error) { return nil, broken }),
		titan.Invoke(func(*strings.Builder) {}),
	)
	if err := app.Start(context.Background()); !errors.Is(err, broken) && (err == nil || !strings.Contains(err.Error(), broken.Error())) {
		t.Fatalf("start: %v, want the constructor's error", err)
	}
}
