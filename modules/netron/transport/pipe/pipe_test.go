package pipe_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/pipe"
)

func TestUnsupportedOutsideWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("named pipes work on Windows; this checks the message elsewhere")
	}
	_, err := transport.Listen(context.Background(), "pipe://titan-test", transport.Options{})
	if !errors.Is(err, pipe.ErrUnsupported) || !strings.Contains(err.Error(), "not supported on this OS") {
		t.Fatalf("listen: %v", err)
	}
	_, err = transport.Dial(context.Background(), "pipe://titan-test", transport.Options{})
	if !errors.Is(err, pipe.ErrUnsupported) {
		t.Fatalf("dial: %v", err)
	}
	if _, err := transport.Dial(context.Background(), "pipe://a/b", transport.Options{}); err == nil || errors.Is(err, pipe.ErrUnsupported) {
		t.Fatalf("bad address not refused as such: %v", err)
	}
}

func TestAddr(t *testing.T) {
	if got := pipe.Addr(`\\.\pipe\calc`); got != "pipe://calc" {
		t.Fatalf("Addr = %q", got)
	}
}
