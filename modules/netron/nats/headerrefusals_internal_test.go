package nats

import (
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// A call header the gateway refuses is named in the refusal with what it
// wants instead, as the timeout's is, so that a caller that is not a Go
// client can tell how to send it.
func TestCallHeaderRefusalsSayWhatIsWanted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ header, value, want string }{
		{HeaderTimeout, "-1", "milliseconds"},
		{HeaderStream, "x", "stream id"},
		{HeaderStream, "4294967296", "stream id"},
		{HeaderWindow, "0", "window in items"},
		{HeaderWindowBytes, "-5", "window in bytes"},
		{HeaderInbox, "a.*", "NATS subject"},
	} {
		t.Run(tc.header+"="+tc.value, func(t *testing.T) {
			h := nats.Header{}
			h.Set(tc.header, tc.value)
			_, err := readCallHeaders(h)
			if err == nil || !strings.Contains(err.Error(), tc.header) || !strings.Contains(err.Error(), "want") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s: %q refused with %v; want it named, with what is wanted (%q)", tc.header, tc.value, err, tc.want)
			}
		})
	}
}
