package netron_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

type pixel struct {
	Level uint8  `json:"level"`
	Count uint   `json:"count"`
	Shift int16  `json:"shift"`
	Tags  []int8 `json:"tags,omitempty"`
}

type pixelSvc struct{}

func (pixelSvc) Paint(_ context.Context, p pixel) (pixel, error) { return p, nil }

// TestSizedIntegersOutOfRange: a field of an integer type narrower than
// 64 bits, or unsigned, carries its range in the derived contract, so a
// value out of range is refused naming its pointer and the bound. Before,
// the contract said only "integer" and the caller read "argument 1:
// number does not fit Go type uint8 at offset 12".
func TestSizedIntegersOutOfRange(t *testing.T) {
	t.Parallel()
	_, p := serveOnTCP(t, map[string]any{"px": pixelSvc{}})
	ctx := context.Background()
	for _, tc := range []struct {
		arg  map[string]any
		want string
	}{
		{map[string]any{"level": 300, "count": 1, "shift": 0}, "argument 1 at /level: want at most 255, got 300"},
		{map[string]any{"level": 1, "count": -1, "shift": 0}, "argument 1 at /count: want at least 0, got -1"},
		{map[string]any{"level": 1, "count": 1, "shift": 40000}, "argument 1 at /shift: want at most 32767, got 40000"},
		{map[string]any{"level": 1, "count": 1, "shift": 0, "tags": []int{1, -200}}, "argument 1 at /tags/1: want at least -128, got -200"},
	} {
		_, err := netron.CallUnary[pixel](ctx, p, "px@1.0.0", "paint", tc.arg)
		if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("paint(%v): %v, want invalid_argument with %q", tc.arg, err, tc.want)
		}
	}
	got, err := netron.CallUnary[pixel](ctx, p, "px@1.0.0", "paint", pixel{Level: 255, Count: math.MaxUint, Shift: -32768, Tags: []int8{-128, 127}})
	if err != nil || got.Level != 255 || got.Count != math.MaxUint || got.Shift != -32768 || got.Tags[0] != -128 {
		t.Fatalf("values at the bounds: %+v, %v", got, err)
	}
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("px", "1.0.0", pixelSvc{}); err != nil {
		t.Fatal(err)
	}
	in := string(n.Describe()[0].Methods[0].Input)
	for _, want := range []string{`"level":{"type":"integer","maximum":255,"minimum":0}`, `"count":{"type":"integer","minimum":0}`} {
		if !strings.Contains(in, want) {
			t.Errorf("input contract %s lacks %s", in, want)
		}
	}
}
