package netron_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

type remark struct {
	Text string `json:"text"`
}

type namedRemark struct {
	remark `json:"remark"`
	ID     int `json:"id"`
}

type remarkSvc struct{}

func (remarkSvc) Echo(_ context.Context, r namedRemark) (namedRemark, error) { return r, nil }

// TestNamedUnexportedEmbeddedCrosses: a struct of an unexported type
// embedded by value with a json name is a field of that name, as
// encoding/json writes it and as the derived contract requires it. Before,
// the encoder left it out and every call failed with "argument 1 at
// /remark: required, but missing".
func TestNamedUnexportedEmbeddedCrosses(t *testing.T) {
	t.Parallel()
	in := namedRemark{remark: remark{Text: "hi"}, ID: 3}
	want, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := protocol.AppendValueJSON(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("encoded %s, encoding/json writes %s", got, want)
	}
	_, p := serveOnTCP(t, map[string]any{"rm": remarkSvc{}})
	out, err := netron.CallUnary[namedRemark](context.Background(), p, "rm@1.0.0", "echo", in)
	if err != nil || out != in {
		t.Fatalf("echo: %+v, %v, want %+v", out, err, in)
	}
}

type namedRemarkPtr struct {
	*remark `json:"remark"`
}

type remarkPtrSvc struct{}

func (remarkPtrSvc) Echo(_ context.Context, r namedRemarkPtr) (int, error) { return 0, nil }

type tags struct {
	A string `json:"a"`
}

type inlined struct {
	Tags tags `json:",inline"`
	ID   int  `json:"id"`
}

type inlineSvc struct{}

func (inlineSvc) Echo(_ context.Context, v inlined) (inlined, error) { return v, nil }

type namedInline struct {
	tags `json:"t,inline"`
}

type namedInlineSvc struct{}

func (namedInlineSvc) Echo(_ context.Context, v namedInline) (int, error) { return 0, nil }

type dashed struct {
	Dash int `json:"-,"`
	ID   int `json:"id"`
}

type dashSvc struct{}

func (dashSvc) Echo(_ context.Context, v dashed) (dashed, error) { return v, nil }

type schemaHidden struct {
	Secret string `json:"secret" jsonschema:"-"`
}

type schemaHiddenSvc struct{}

func (schemaHiddenSvc) Echo(_ context.Context, v schemaHidden) (int, error) { return 0, nil }

type embeddedInline struct {
	tags `json:",inline"`
	ID   int `json:"id"`
}

type embeddedInlineSvc struct{}

func (embeddedInlineSvc) Echo(_ context.Context, v embeddedInline) (embeddedInline, error) {
	return v, nil
}

type skipped struct {
	Gone int `json:"-"`
	ID   int `json:"id"`
}

type skipSvc struct{}

func (skipSvc) Echo(_ context.Context, v skipped) (skipped, error) { return v, nil }

// TestJSONTagsTheContractCannotFollowRefused: json tags whose derived
// contract would differ from what the encoder (and encoding/json) writes
// are refused at registration, naming the field: ",inline" on a field that
// encoding/json does not flatten (the contract flattens it, the encoder
// writes it as an object), the name "-" given by `json:"-,"` and the tag
// `jsonschema:"-"` on a field the encoder writes (the contract leaves the
// field out, the encoder writes it), and an unexported struct
// embedded by pointer with a name (the decoder cannot allocate it). Before,
// they registered and every call failed, as "argument 1: unknown key".
// An embedded struct with ",inline" and no name, flattened by all, and a
// field skipped by `json:"-"`, still cross.
func TestJSONTagsTheContractCannotFollowRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		impl any
		want string
	}{
		{inlineSvc{}, `netron_test.inlined.Tags: json tag option ",inline"`},
		{namedInlineSvc{}, `netron_test.namedInline.tags: json tag option ",inline"`},
		{dashSvc{}, `netron_test.dashed.Dash: json tag "-,"`},
		{schemaHiddenSvc{}, `netron_test.schemaHidden.Secret: jsonschema tag "-"`},
		{remarkPtrSvc{}, `netron_test.namedRemarkPtr.remark: an unexported struct embedded by pointer`},
	} {
		n, err := netron.New(netron.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = n.Register("tags", "1.0.0", tc.impl)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%T: %v, want an error with %s", tc.impl, err, tc.want)
		}
	}
	_, p := serveOnTCP(t, map[string]any{"ei": embeddedInlineSvc{}, "sk": skipSvc{}})
	ei := embeddedInline{tags: tags{A: "x"}, ID: 1}
	if got, err := netron.CallUnary[embeddedInline](context.Background(), p, "ei@1.0.0", "echo", ei); err != nil || got != ei {
		t.Errorf("embedded ,inline: %+v, %v, want %+v", got, err, ei)
	}
	sk := skipped{Gone: 5, ID: 2}
	if got, err := netron.CallUnary[skipped](context.Background(), p, "sk@1.0.0", "echo", sk); err != nil || got != (skipped{ID: 2}) {
		t.Errorf(`json:"-": %+v, %v, want {ID:2}`, got, err)
	}
}
