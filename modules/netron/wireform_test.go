package netron_test

import (
	"context"
	"iter"
	"net/url"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

type boundedBlob struct {
	Data []byte `json:"data" jsonschema:"maxLength=4"`
}

type fewBytes struct {
	Few []byte `json:"few" jsonschema:"maxItems=4"`
}

type blobPage struct {
	Items []*fewBytes `json:"items"`
}

type blobIn struct{}

func (blobIn) Blob(_ context.Context, b boundedBlob) (int, error) { return len(b.Data), nil }

type blobOut struct{}

func (blobOut) Page(context.Context) (blobPage, error) { return blobPage{}, nil }

type blobPlain struct{}

func (blobPlain) Store(_ context.Context, b struct {
	Data []byte `json:"data" jsonschema:"description=the bytes"`
}) (int, error) {
	return len(b.Data), nil
}

// TestBinaryLengthTagsRefused: a length bound on a []byte field, which
// the derived contract (a Node Buffer's) would not enforce, is refused at
// registration, naming the field; other tags on such a field are kept.
func TestBinaryLengthTagsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		impl any
		want string
	}{
		{blobIn{}, `netron_test.boundedBlob.Data: jsonschema tag "maxLength=4"`},
		{blobOut{}, `netron_test.fewBytes.Few: jsonschema tag "maxItems=4"`},
	} {
		n, err := netron.New(netron.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Register("blob", "1.0.0", tc.impl)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%T: %v, want an error with %s", tc.impl, err, tc.want)
		}
	}
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("blob", "1.0.0", blobPlain{}); err != nil {
		t.Errorf("a []byte field with a description: %v", err)
	}
}

type quotedCount struct {
	N int `json:"n,string"`
}

type quotedSvc struct{}

func (quotedSvc) Count(_ context.Context, q quotedCount) (int, error) { return q.N, nil }

type linkOut struct {
	Links []url.URL `json:"links"`
}

type urlSvc struct{}

func (urlSvc) Links(context.Context) (linkOut, error) { return linkOut{}, nil }

type note struct {
	Text string `json:"text"`
}

type notedTicket struct {
	*note
	ID int `json:"id"`
}

type notedSvc struct{}

func (notedSvc) Echo(_ context.Context, tk notedTicket) (int, error) { return tk.ID, nil }

type urlArgSvc struct{}

func (urlArgSvc) Fetch(_ context.Context, u *url.URL) (string, error) { return u.String(), nil }

// TestWireFormMismatchRefused: a type whose derived contract would refuse
// the values the encoder writes for it (the ",string" option, url.URL), or
// whose fields the decoder would drop (an unexported struct embedded by
// pointer), is refused at registration, naming the field; before, every
// call failed, as "argument 1 at /n: want a string, got a number", or the
// fields were lost without a word.
func TestWireFormMismatchRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		impl any
		want string
	}{
		{quotedSvc{}, `netron_test.quotedCount.N: json tag option ",string" is not supported`},
		{urlSvc{}, `netron_test.linkOut.Links: a url.URL cannot cross the wire`},
		{urlArgSvc{}, `*url.URL: a url.URL cannot cross the wire`},
		{notedSvc{}, `netron_test.notedTicket.note: an unexported struct embedded by pointer`},
	} {
		n, err := netron.New(netron.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Register("wire", "1.0.0", tc.impl)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%T: %v, want an error with %s", tc.impl, err, tc.want)
		}
	}
}

type Audit struct {
	By string `json:"by"`
}

type ticket struct {
	*Audit
	ID int `json:"id"`
}

type ticketSvc struct{}

func (ticketSvc) Echo(_ context.Context, tk ticket) (ticket, error) { return tk, nil }

// TestNilEmbeddedPointerKeepsContract: the fields of a struct embedded by
// pointer are left out while the pointer is nil, so the contract does not
// require them; set, they arrive. Before, a call with a nil one failed
// with "argument 1 at /by: required, but missing".
func TestNilEmbeddedPointerKeepsContract(t *testing.T) {
	t.Parallel()
	_, p := serveOnTCP(t, map[string]any{"tk": ticketSvc{}})
	got, err := netron.CallUnary[ticket](context.Background(), p, "tk@1.0.0", "echo", ticket{ID: 7})
	if err != nil || got.ID != 7 || got.Audit != nil {
		t.Fatalf("nil embedded pointer: %+v, %v", got, err)
	}
	got, err = netron.CallUnary[ticket](context.Background(), p, "tk@1.0.0", "echo", ticket{ID: 8, Audit: &Audit{By: "ann"}})
	if err != nil || got.ID != 8 || got.Audit == nil || got.By != "ann" {
		t.Fatalf("set embedded pointer: %+v, %v", got, err)
	}
}

type flagKey struct{ On bool }

type keyedByFlag struct {
	Counts map[flagKey]int `json:"counts"`
}

type boolKeys struct{}

func (boolKeys) Count(_ context.Context, m map[bool]int) (int, error) { return len(m), nil }

type structKeys struct{}

func (structKeys) Count(_ context.Context, k keyedByFlag) (int, error) { return len(k.Counts), nil }

type pairKeys struct{}

func (pairKeys) Grid(context.Context) (map[[2]int]string, error) {
	return map[[2]int]string{{1, 2}: "x"}, nil
}

type floatKeys struct{}

func (floatKeys) Buckets(context.Context) iter.Seq2[map[float64]int, error] { return nil }

type celsius float64

type goodKeys struct{}

func (goodKeys) Temps(_ context.Context, m map[string]celsius, byID map[int64]string, small map[uint8]bool) (int, error) {
	return len(m) + len(byID) + len(small), nil
}

// TestMapKeysThatCannotCrossAreRefused: a map whose keys the encoder
// and the decoder refuse (neither strings nor integers), in an argument,
// a field, a result or a stream item, is refused at registration, naming
// the map, rather than registering a method every call of which fails;
// string and integer keys register.
func TestMapKeysThatCannotCrossAreRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		impl any
		want string
	}{
		{boolKeys{}, "method count: input schema: map[bool]int: a map with bool keys cannot cross the wire"},
		{structKeys{}, "netron_test.keyedByFlag.Counts: a map with netron_test.flagKey keys cannot cross the wire"},
		{pairKeys{}, "method grid: output schema: map[[2]int]string: a map with [2]int keys cannot cross the wire"},
		{floatKeys{}, "method buckets: output schema: map[float64]int: a map with float64 keys cannot cross the wire"},
	} {
		n, err := netron.New(netron.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Register("keys", "1.0.0", tc.impl)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%T: %v, want an error with %q", tc.impl, err, tc.want)
		}
	}
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("keys", "1.0.0", goodKeys{}); err != nil {
		t.Fatalf("string and integer keys: %v", err)
	}
}
