package netron_test

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

type stampedNote struct {
	time.Time
	Text string `json:"text"`
}

type stampedNoteSvc struct{}

func (stampedNoteSvc) Echo(_ context.Context, n stampedNote) (stampedNote, error) { return n, nil }

type stampedByPointer struct {
	*time.Time
	Text string `json:"text"`
}

type stampedByPointerSvc struct{}

func (stampedByPointerSvc) Echo(_ context.Context, n stampedByPointer) (int, error) { return 0, nil }

// Stamp is the common wrapper that gives a time its own methods.
type Stamp struct{ time.Time }

type withStamp struct {
	At Stamp `json:"at"`
}

type withStampSvc struct{}

func (withStampSvc) Last(context.Context) (withStamp, error) { return withStamp{}, nil }

type bigCount struct {
	*big.Int
	Of string `json:"of"`
}

type bigCountSvc struct{}

func (bigCountSvc) Count(_ context.Context, c bigCount) (int, error) { return 0, nil }

type Refusal struct {
	Code int `json:"code"`
}

func (r Refusal) Error() string { return "refused" }

type refusalReport struct {
	Refusal
	By string `json:"by"`
}

type refusalSvc struct{}

func (refusalSvc) Report(_ context.Context, r refusalReport) (int, error) { return r.Code, nil }

type refusalOut struct{}

func (refusalOut) List(context.Context) ([]Refusal, error) { return nil, nil }

type namedStamp struct {
	time.Time `json:"at"`
	Text      string `json:"text"`
}

type namedStampSvc struct{}

func (namedStampSvc) Echo(_ context.Context, n namedStamp) (namedStamp, error) { return n, nil }

// TestPromotedMethodsRefused: a struct that embeds a time.Time (or a
// big.Int) without a json name, or that is an error through an Error
// method of its own or promoted from an embedded struct, has methods that
// make encoding/json take it for the time, the number or the error; the
// encoder sent the time under "Time" and the error as a JavaScript Error,
// which its contract did not describe, so every call failed ("argument 1
// at /Time: unknown key, not allowed here"). They are refused at
// registration, naming the field. A time.Time embedded with a json name is
// a field of that name and crosses.
func TestPromotedMethodsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		impl any
		want string
	}{
		{stampedNoteSvc{}, "netron_test.stampedNote.Time: an embedded time.Time cannot cross the wire"},
		{stampedByPointerSvc{}, "netron_test.stampedByPointer.Time: an embedded *time.Time cannot cross the wire"},
		{withStampSvc{}, "netron_test.Stamp.Time: an embedded time.Time cannot cross the wire"},
		{bigCountSvc{}, "netron_test.bigCount.Int: an embedded *big.Int cannot cross the wire"},
		{refusalSvc{}, "netron_test.refusalReport is an error"},
		{refusalOut{}, "netron_test.Refusal is an error"},
	} {
		n, err := netron.New(netron.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Register("promoted", "1.0.0", tc.impl)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%T: %v, want an error with %q", tc.impl, err, tc.want)
		}
	}
	_, p := serveOnTCP(t, map[string]any{"ns": namedStampSvc{}})
	in := namedStamp{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Text: "hi"}
	got, err := netron.CallUnary[namedStamp](context.Background(), p, "ns@1.0.0", "echo", in)
	if err != nil || !got.Time.Equal(in.Time) || got.Text != in.Text {
		t.Errorf("named embedded time: %+v, %v, want %+v", got, err, in)
	}
}
