package nats_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/transport"
)

// TestTokenNotShown: a token given in the user's place of a nats:// URL
// (nats://token@host, NATS's token authentication) is a credential: a
// failed dial or a refused address does not show it, as it shows no
// password.
func TestTokenNotShown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, raw := range []string{
		"nats://s3cr3ttok@127.0.0.1:1",         // connection refused
		"nats://s3cr3ttok@127.0.0.1:1?bogus=1", // unknown parameter
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = natstransport.Transport{}.Dial(ctx, u, transport.Options{})
		if err == nil {
			t.Fatalf("dial %s: no error", raw)
		}
		if strings.Contains(err.Error(), "s3cr3ttok") {
			t.Errorf("dial: the error shows the token: %v", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("dial: the error does not name the address: %v", err)
		}
	}
}

// TestTokenNotInRemoteAddr: RemoteAddr is the dialled URL without
// credentials, a token in the user's place included.
func TestTokenNotInRemoteAddr(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User("s3cr3ttok")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := natstransport.Transport{}.Dial(ctx, u, transport.Options{})
	if err != nil {
		t.Fatalf("dial with a token (the test server has no authorization, so it takes any): %v", err)
	}
	defer c.Close()
	if strings.Contains(c.RemoteAddr(), "s3cr3ttok") {
		t.Fatalf("RemoteAddr shows the token: %s", c.RemoteAddr())
	}
}
