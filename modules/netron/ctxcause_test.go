package netron_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A call ended by its context keeps the reason the caller gave it
// (context.WithTimeoutCause, WithCancelCause), with the code of the end
// and errors.Is still matching the context's error.
func TestCallEndedByContextKeepsItsCause(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	p := dial(t, s.addr)
	budget := errors.New("checkout budget spent")
	left := errors.New("the user left")
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		code netron.Code
		is   error
		want string
	}{
		{"timeout cause", func() (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(context.Background(), 50*time.Millisecond, budget)
		}, netron.CodeDeadlineExceeded, context.DeadlineExceeded, "checkout budget spent"},
		{"cancel cause wrapping Canceled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(50*time.Millisecond, func() { cancel(errors.Join(left, context.Canceled)) })
			return ctx, func() { cancel(nil) }
		}, netron.CodeCanceled, context.Canceled, "the user left"},
		{"plain timeout", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, netron.CodeDeadlineExceeded, context.DeadlineExceeded, "deadline exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			_, err := netron.CallUnary[string](ctx, p, "calculator@1.0.0", "slow", time.Minute)
			if err == nil {
				t.Fatal("a call of a minute ended by its context succeeded")
			}
			if got := netron.CodeOf(err); got != tc.code {
				t.Errorf("%v: code %v, want %v", err, got, tc.code)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("%v: does not match %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: does not give the reason %q", err, tc.want)
			}
		})
	}
}
