package netron_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// TestCodeOf: the code of an *Error, of one wrapped, of the context
// errors; unknown for nil and for others. Asking of nil or of an *Error
// itself allocates nothing (the gateways ask of every call's lookup).
func TestCodeOf(t *testing.T) {
	nf := netron.Errorf(netron.CodeNotFound, "no such service")
	for _, tc := range []struct {
		err  error
		want netron.Code
	}{
		{nil, netron.CodeUnknown},
		{nf, netron.CodeNotFound},
		{fmt.Errorf("resolving: %w", nf), netron.CodeNotFound},
		{context.Canceled, netron.CodeCanceled},
		{fmt.Errorf("waiting: %w", context.DeadlineExceeded), netron.CodeDeadlineExceeded},
		{fmt.Errorf("plain"), netron.CodeUnknown},
	} {
		if got := netron.CodeOf(tc.err); got != tc.want {
			t.Errorf("CodeOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if a := testing.AllocsPerRun(100, func() { _, _ = netron.CodeOf(nil), netron.CodeOf(nf) }); a != 0 {
		t.Errorf("CodeOf of nil and of an *Error: %v allocations, want 0", a)
	}
}

// MessageOf keeps the words a method wrapped around an *Error, without
// the code the *Error's text starts with.
func TestMessageOf(t *testing.T) {
	t.Parallel()
	inner := netron.Errorf(netron.CodeUnavailable, "connection closed")
	for _, c := range []struct {
		err  error
		want string
	}{
		{inner, "connection closed"},
		{fmt.Errorf("charge order 42: %w", inner), "charge order 42: connection closed"},
		{fmt.Errorf("order: %w", fmt.Errorf("charge: %w", inner)), "order: charge: connection closed"},
		{netron.WithTrace(inner, strings.Repeat("a", 32), strings.Repeat("b", 16)), "connection closed"},
		{errors.New("plain"), "plain"},
	} {
		if got := netron.MessageOf(c.err); got != c.want {
			t.Errorf("MessageOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
