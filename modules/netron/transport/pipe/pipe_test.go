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

// An address refused for its user info does not show the password.
func TestBadAddressHidesPassword(t *testing.T) {
	for _, addr := range []string{"pipe://user:s3cret@titan-test", "pipe://user:s3cret@titan-test/x"} {
		_, err := transport.Listen(context.Background(), addr, transport.Options{})
		if err == nil || errors.Is(err, pipe.ErrUnsupported) {
			t.Fatalf("Listen(%q) not refused as a bad address: %v", addr, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Listen(%q) error %q shows the password", addr, err)
		}
	}
}
