package netron_test

import (
	"context"
	"errors"
	"io"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// recordingCalls is a call door (a CallDialer) whose streams yield the
// items it is given, then end with end, and count their Close.
type recordingCalls struct {
	items  []protocol.RawValue
	end    error
	closed atomic.Int32
}

func (r *recordingCalls) Name() string                         { return "reccalls" }
func (r *recordingCalls) Schemes() []string                    { return []string{"reccalls"} }
func (r *recordingCalls) Capabilities() transport.Capabilities { return transport.Capabilities{} }
func (r *recordingCalls) Listen(context.Context, *url.URL, transport.Options) (transport.Listener, error) {
	return nil, errors.New("reccalls: no listener")
}
func (r *recordingCalls) Dial(context.Context, *url.URL, transport.Options) (transport.Conn, error) {
	return nil, errors.New("reccalls: carries calls")
}
func (r *recordingCalls) DialCalls(context.Context, string, netron.CallDialOptions) (netron.CallConn, error) {
	return recordingConn{r}, nil
}

type recordingConn struct{ r *recordingCalls }

func (c recordingConn) Invoke(context.Context, string, string, []any) (protocol.RawValue, error) {
	return nil, errors.New("reccalls: streams only")
}
func (c recordingConn) Stream(context.Context, string, string, []any) (netron.ItemReader, error) {
	return &recordingReader{r: c.r, items: c.r.items}, nil
}
func (c recordingConn) Definition(context.Context, string) (*protocol.Definition, error) {
	return nil, errors.New("reccalls: no definitions")
}
func (c recordingConn) Services(context.Context) ([]netron.ServiceInfo, error) { return nil, nil }
func (c recordingConn) RemoteAddr() string                                     { return "reccalls://x" }
func (c recordingConn) Close() error                                           { return nil }

type recordingReader struct {
	r     *recordingCalls
	items []protocol.RawValue
	once  atomic.Bool
}

func (rd *recordingReader) Next() (protocol.RawValue, error) {
	if len(rd.items) == 0 {
		return nil, rd.r.end
	}
	v := rd.items[0]
	rd.items = rd.items[1:]
	return v, nil
}

func (rd *recordingReader) Close() error {
	if rd.once.CompareAndSwap(false, true) {
		rd.r.closed.Add(1)
	}
	return nil
}

// A stream over a call door that ends (its last item read, or an error)
// closes its ItemReader: the door's call, HTTP body or subscription is
// released without the reader closing the Stream (a stream read to its
// end need not be closed).
func TestCallConnStreamEndClosesSource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		end  error
	}{
		{"eof", io.EOF},
		{"error", netron.Errorf(netron.CodeInternal, "the producer failed")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := &recordingCalls{items: []protocol.RawValue{{0x01}}, end: tc.end}
			n, err := netron.New(netron.Config{}, nil, netron.WithCustomTransports(rc))
			if err != nil {
				t.Fatal(err)
			}
			defer n.Stop(context.Background())
			p, err := n.Dial(context.Background(), "reccalls://x")
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			s, err := p.OpenStream(context.Background(), "svc", "items")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Next(); err != nil {
				t.Fatalf("first item: %v", err)
			}
			if _, err := s.Next(); !errors.Is(err, tc.end) {
				t.Fatalf("end = %v, want %v", err, tc.end)
			}
			if got := rc.closed.Load(); got != 1 {
				t.Fatalf("the stream ended (%v) and its ItemReader was closed %d times, want 1", tc.end, got)
			}
			s.Close()
			if got := rc.closed.Load(); got != 1 {
				t.Fatalf("after Close the ItemReader was closed %d times, want 1", got)
			}
		})
	}
}
