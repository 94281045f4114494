package protocol_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// TestTimeFromString: a string (a Date's JSON form, as HTTP callers send
// it) decodes into a time.Time when it is an RFC 3339 date-time, in UTC
// as a Date decodes; any other string is a type mismatch saying so.
func TestTimeFromString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2026-01-02T03:04:05.123456789Z", time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)},
		{"2026-01-02T04:04:05+01:00", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	} {
		b, err := protocol.Marshal(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		var got time.Time
		if err := protocol.Unmarshal(b, &got); err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"yesterday", "2026-01-02", ""} {
		b, err := protocol.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var got time.Time
		err = protocol.Unmarshal(b, &got)
		if !errors.Is(err, protocol.ErrTypeMismatch) || !strings.Contains(err.Error(), "want an RFC 3339 date-time") {
			t.Errorf("%q: %v, want a type mismatch asking for an RFC 3339 date-time", in, err)
		}
	}
}
