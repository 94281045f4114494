package netron_test

import (
	"context"
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
