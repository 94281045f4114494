package main_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
)

// TestEveryMustBePositive: cluster.every of 0 (or less) fails start-up
// with the line naming the key, instead of a panic of the greeting loop.
func TestEveryMustBePositive(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := testsrv.ProgramCommandContext(t, ctx, "--set", "cluster.every=0s",
		"--set", fmt.Sprintf("nats.embedded.port=%d", testsrv.FreePort(t)))
	cmd.Dir = t.TempDir()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v, want code 1; stderr:\n%s", err, stderr.String())
	}
	want := "titan: start-up failed: cluster.every: want a positive duration, got 0s\n"
	if got := stderr.String(); !strings.HasSuffix(got, want) {
		t.Fatalf("stderr:\n%s\nwant it to end with %q", got, want)
	}
}
