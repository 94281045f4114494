package nats_test

import (
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// What an instance refuses for its own bounds in a flood, calls past its
// waiting line and streams past its instance-wide cap, is logged: once
// for the flood, not once per refusal, naming the setting and counting
// the refusals (the first warning counts the first one; later ones, at
// most every 10 s, those since).
func TestInstanceRefusalsAreLoggedOnce(t *testing.T) {
	t.Parallel()
	const refused = 10
	for _, tc := range []struct {
		what, setting string
		cfg           netron.Config
		method        string
		args          []any
		accepted      int // before the refusals
		headers       func(m *nats.Msg, inbox string)
	}{
		// Calls of 1 s from one caller: one runs, 4 wait (4 per caller),
		// the rest are refused.
		{"calls refused", "maxCallsPerPeer", netron.Config{MaxCallsPerPeer: 1}, "work", []any{1000}, 5, func(m *nats.Msg, _ string) {
			m.Header.Set(natstransport.HeaderCaller, "flooder")
			m.Header.Set(natstransport.HeaderTimeout, "3000")
		}},
		// Streams, each under an inbox of its own: 10 (10 times
		// maxStreamsPerPeer) stay open waiting for credit, the rest are
		// refused.
		{"streams refused", "10 times maxStreamsPerPeer", netron.Config{MaxStreamsPerPeer: 1}, "count", []any{1000000}, 10, func(m *nats.Msg, inbox string) {
			m.Header.Set(natstransport.HeaderInbox, inbox)
			m.Header.Set(natstransport.HeaderStream, "1")
			m.Header.Set(natstransport.HeaderWindow, "1")
		}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			t.Parallel()
			var logs testsrv.LogBuffer
			addr := testURL(t)
			n, err := netron.New(tc.cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
			if err != nil {
				t.Fatal(err)
			}
			ctx := serveOnNATS(t, n, addr, "calculator", "1.0.0", newCalc())
			nc, prefix := rawNATS(t, addr)
			base := nc.NewInbox()
			var (
				mu        sync.Mutex
				exhausted int
			)
			sub, err := nc.Subscribe(base+".>", func(m *nats.Msg) {
				switch {
				case strings.HasSuffix(m.Subject, ".alive"):
					_ = m.Respond(nil)
				case m.Header.Get(natstransport.HeaderAck) == "":
					pkt, err := protocol.DecodePacket(m.Data, protocol.Limits{})
					if te, ok := pkt.Data.(*protocol.TitanError); err == nil && ok && te.GoCode() == "resource_exhausted" {
						mu.Lock()
						exhausted++
						mu.Unlock()
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			args, _ := protocol.AppendValue(nil, tc.args)
			for i := range tc.accepted + refused {
				inbox := base + "." + strconv.Itoa(i)
				m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0." + tc.method)
				m.Reply, m.Data = inbox+".r.1", args
				tc.headers(m, inbox)
				if err := nc.PublishMsg(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := nc.FlushWithContext(ctx); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				mu.Lock()
				got := exhausted
				mu.Unlock()
				if got == refused {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d refusals answered, want %d", got, refused)
				}
				time.Sleep(10 * time.Millisecond)
			}
			var got []string
			for line := range strings.Lines(logs.String()) {
				if strings.Contains(line, tc.what) {
					got = append(got, line)
				}
			}
			if len(got) != 1 {
				t.Fatalf("%d warnings %q in a flood of %d refusals, want 1: %q", len(got), tc.what, refused, got)
			}
			for _, want := range []string{tc.setting, "refused=1", "instance="} {
				if !strings.Contains(got[0], want) {
					t.Errorf("warning %q lacks %q", got[0], want)
				}
			}
		})
	}
}
