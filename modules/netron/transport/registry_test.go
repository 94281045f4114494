package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var runs atomic.Int64

// unique returns base with a suffix fresh for this run, since the registry is process-wide and
// -count reruns tests in the same process.
func unique(base string) string { return fmt.Sprintf("%s-%d", base, runs.Add(1)) }

// fakeTransport records the URL it was asked for.
type fakeTransport struct {
	name    string
	schemes []string
	lastURL *url.URL
}

func (f *fakeTransport) Name() string                         { return f.name }
func (f *fakeTransport) Schemes() []string                    { return f.schemes }
func (f *fakeTransport) Capabilities() transport.Capabilities { return transport.Capabilities{} }
func (f *fakeTransport) Listen(_ context.Context, u *url.URL, _ transport.Options) (transport.Listener, error) {
	f.lastURL = u
	return nil, errors.New("fake listen")
}
func (f *fakeTransport) Dial(_ context.Context, u *url.URL, _ transport.Options) (transport.Conn, error) {
	f.lastURL = u
	return nil, errors.New("fake dial")
}

func TestLookupUnknownScheme(t *testing.T) {
	known := unique("fake-a")
	transport.Register(&fakeTransport{name: known, schemes: []string{known}})
	_, err := transport.Lookup("nope")
	if !errors.Is(err, transport.ErrUnknownScheme) {
		t.Fatalf("Lookup(nope) = %v, want ErrUnknownScheme", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"nope"`) || !strings.Contains(msg, known) {
		t.Fatalf("error %q should name the scheme and list the known ones", msg)
	}
	if _, err := transport.Dial(context.Background(), "nope://x", transport.Options{}); !errors.Is(err, transport.ErrUnknownScheme) ||
		!strings.Contains(err.Error(), "nope://x") {
		t.Fatalf("Dial(nope://x) = %v, want ErrUnknownScheme naming the address", err)
	}
}

func TestRegisterAndDispatch(t *testing.T) {
	b, b2 := unique("fake-b"), unique("fake-b")
	f := &fakeTransport{name: b, schemes: []string{b, b2}}
	transport.Register(f)
	for _, scheme := range []string{b, strings.ToUpper(b2)} {
		got, err := transport.Lookup(scheme)
		if err != nil || got != f {
			t.Fatalf("Lookup(%q) = %v, %v", scheme, got, err)
		}
	}
	if !slices.Contains(transport.Schemes(), b2) || !slices.IsSorted(transport.Schemes()) {
		t.Fatalf("Schemes() = %v, want sorted and holding %s", transport.Schemes(), b2)
	}
	_, err := transport.Dial(context.Background(), b2+"://host:1/p", transport.Options{})
	if err == nil || err.Error() != "fake dial" || f.lastURL.Host != "host:1" {
		t.Fatalf("Dial = %v with URL %v, want the transport's own result", err, f.lastURL)
	}
	_, err = transport.Listen(context.Background(), b+":x", transport.Options{})
	if err == nil || err.Error() != "fake listen" || f.lastURL.Opaque != "x" {
		t.Fatalf("Listen = %v with URL %v, want the transport's own result", err, f.lastURL)
	}
}

func TestRegisterPanics(t *testing.T) {
	dup, c := unique("fake-dup"), unique("fake-c")
	transport.Register(&fakeTransport{name: "first", schemes: []string{dup}})
	tests := []struct {
		name string
		t    transport.Transport
		want string
	}{
		{"Duplicate", &fakeTransport{name: "second", schemes: []string{c, dup}}, fmt.Sprintf("scheme %q registered twice (by \"first\" and \"second\")", dup)},
		{"Nil", nil, "nil Transport"},
		{"NoSchemes", &fakeTransport{name: "empty"}, "no schemes"},
		{"UpperCase", &fakeTransport{name: "upper", schemes: []string{"Fake"}}, "invalid scheme"},
		{"Empty", &fakeTransport{name: "blank", schemes: []string{""}}, "invalid scheme"},
		{"Colon", &fakeTransport{name: "colon", schemes: []string{"fake:"}}, "invalid scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.Contains(s, tt.want) {
					t.Fatalf("Register panicked with %v, want a message containing %q", r, tt.want)
				}
			}()
			transport.Register(tt.t)
		})
	}
	// A failed registration registers none of its schemes.
	if _, err := transport.Lookup(c); err == nil {
		t.Fatalf("%s was registered by a Register call that panicked", c)
	}
}

func TestBadAddresses(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1:7070", "no scheme (want e.g. tcp://127.0.0.1:7070)"},
		{"localhost:7070", "no scheme (want e.g. tcp://localhost:7070)"},
		{"/tmp/app.sock", "no scheme"},
		{"://x", "missing protocol scheme"},
	} {
		if _, err := transport.Dial(context.Background(), tc.addr, transport.Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Dial(%q) = %v, want an error containing %q", tc.addr, err, tc.want)
		}
	}
}

// An address refused before any transport sees it (unknown scheme, or not a URL) is named
// without the password of its user info.
func TestBadAddressHidesPassword(t *testing.T) {
	for _, addr := range []string{
		"nope://user:s3cret@example.com:7070",
		"nope://user:s3cret@example.com:http",
		"tcp://user:s3cret@example.com:http/x?y#z",
		"//user:s3cret@example.com:7070",
	} {
		_, err := transport.Dial(context.Background(), addr, transport.Options{})
		if err == nil {
			t.Fatalf("Dial(%q) succeeded", addr)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Dial(%q) error %q shows the password", addr, err)
		}
		if !strings.Contains(err.Error(), "example.com") {
			t.Errorf("Dial(%q) error %q does not name the address", addr, err)
		}
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		o       transport.Options
		limit   int
		wantErr string
	}{
		{transport.Options{}, 16 << 20, ""},
		{transport.Options{MaxFrameSize: 1}, 1, ""},
		{transport.Options{MaxFrameSize: -1}, -1, "Options.MaxFrameSize is -1"},
	}
	if strconv.IntSize == 64 { // the frame header's 32 bits bound an int of 64
		wide := int64(1) << 32
		most, over := int(wide-1), int(wide)
		tests = append(tests, []struct {
			o       transport.Options
			limit   int
			wantErr string
		}{
			{transport.Options{MaxFrameSize: most}, most, ""},
			{transport.Options{MaxFrameSize: over}, over, "Options.MaxFrameSize is 4294967296"},
		}...)
	}
	for _, tt := range tests {
		err := tt.o.Validate()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.o, err, tt.wantErr)
		}
		if got := tt.o.FrameLimit(); got != tt.limit {
			t.Errorf("%+v.FrameLimit() = %d, want %d", tt.o, got, tt.limit)
		}
	}
	if _, err := transport.Dial(context.Background(), "tcp://x:1", transport.Options{MaxFrameSize: -1}); err == nil ||
		!strings.Contains(err.Error(), "MaxFrameSize") {
		t.Errorf("Dial with MaxFrameSize -1 = %v, want an error naming the option", err)
	}
}

func TestAsTransport(t *testing.T) {
	var got []transport.Transport
	app := fx.New(
		fx.NopLogger,
		fx.Provide(
			transport.AsTransport(func() *fakeTransport { return &fakeTransport{name: "one"} }),
			transport.AsTransport(func() *fakeTransport { return &fakeTransport{name: "two"} }),
		),
		fx.Invoke(fx.Annotate(func(ts []transport.Transport) { got = ts }, fx.ParamTags(`group:"titan.netron.transports"`))),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tr := range got {
		names = append(names, tr.Name())
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"one", "two"}) {
		t.Fatalf("group %q holds %v, want [one two]", transport.Group, names)
	}
}
