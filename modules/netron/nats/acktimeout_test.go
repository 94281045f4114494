package nats_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// A call that reaches a subscriber which neither acknowledges nor answers
// it fails with unavailable after the caller's ackTimeout: 1 s
// (DefaultAckTimeout) without the parameter, the duration the address
// gives with it, never before. Values that are not positive durations are
// refused at dial.
func TestAckTimeout(t *testing.T) {
	t.Parallel()
	server := testsrv.NATS(t)
	for _, tc := range []struct {
		query string
		want  time.Duration
	}{
		{"", natstransport.DefaultAckTimeout},
		{"&ackTimeout=300ms", 300 * time.Millisecond},
		{"&ackTimeout=1500ms", 1500 * time.Millisecond},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			t.Parallel()
			prefix := "t" + strings.ToLower(nuid.Next())
			// A subscriber on the call's subject that ignores what comes.
			nc, err := nats.Connect(server)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			subject := prefix + strings.TrimPrefix(natstransport.CallSubject("calc", "1.0.0", "add"), natstransport.DefaultPrefix)
			if _, err := nc.SubscribeSync(subject); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			p := dial(t, server+"?prefix="+prefix+tc.query, netron.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			_, err = p.Call(ctx, "calc@1.0.0", "add", 1, 2)
			took := time.Since(start)
			if netron.CodeOf(err) != netron.CodeUnavailable || !strings.Contains(err.Error(), "no instance acknowledged the call of calc@1.0.0 within "+tc.want.String()) {
				t.Fatalf("a call nobody acknowledges: %v, want unavailable after %v", err, tc.want)
			}
			// Never early; the caller checks every 100 ms, and a loaded
			// machine may be late.
			if took < tc.want || took > tc.want+2*time.Second {
				t.Fatalf("the call failed after %v, want %v to %v", took, tc.want, tc.want+2*time.Second)
			}
		})
	}
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		n, err := netron.New(netron.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer n.Stop(context.Background())
		for _, v := range []string{"0", "-1s", "soon", ""} {
			_, err := n.Dial(context.Background(), server+"?ackTimeout="+v)
			if err == nil || !strings.Contains(err.Error(), `ackTimeout="`+v+`": want a positive duration`) {
				t.Errorf("ackTimeout=%q: dial gave %v, want it refused", v, err)
			}
		}
	})
}

// An authenticate task that reaches a subscriber which neither
// acknowledges nor answers it fails with unavailable after the caller's
// ackTimeout, saying so of the authenticate task: it used to call it a
// resolve ("no instance answered the resolve of the authenticate task").
func TestAuthenticateNobodyAcknowledges(t *testing.T) {
	t.Parallel()
	server := testsrv.NATS(t)
	prefix := "t" + strings.ToLower(nuid.Next())
	nc, err := nats.Connect(server)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.SubscribeSync(prefix + ".authenticate"); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	p := dial(t, server+"?prefix="+prefix+"&ackTimeout=300ms", netron.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = p.Task(ctx, nil, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: "t"}})
	if netron.CodeOf(err) != netron.CodeUnavailable || !strings.Contains(err.Error(), "no instance acknowledged the authenticate task within 300ms") {
		t.Fatalf("an authenticate task nobody acknowledges: %v, want unavailable saying no instance acknowledged the authenticate task", err)
	}
}

// TestEmptyPrefixRefused: "?prefix=" is a mistake (a variable that was
// not set), not a request for the default prefix, which would put the
// services where the operator did not mean them.
func TestEmptyPrefixRefused(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	_, err = n.Dial(context.Background(), "nats://127.0.0.1:4222?prefix=")
	if err == nil || !strings.Contains(err.Error(), "prefix is empty") {
		t.Fatalf("dial with prefix= gave %v, want it refused", err)
	}
	if _, err := n.Listen(context.Background(), "nats://127.0.0.1:4222?prefix="); err == nil || !strings.Contains(err.Error(), "prefix is empty") {
		t.Fatalf("listen with prefix= gave %v, want it refused", err)
	}
}
