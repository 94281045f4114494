package contract

import (
	"reflect"
	"testing"
)

// TestBigFloatEquality: a float64 beyond 2^53 equal to a bound, const or
// enum value is not proven valid, because its JSON form (the shortest
// decimal, 1152921504606847000 for 2^60) is not that number and the
// validator refuses it; the checker leaves such equality to the validator.
func TestBigFloatEquality(t *testing.T) {
	for _, c := range []struct {
		doc    string
		v      float64
		proven bool // the checker decides it alone
	}{
		{`{"type":"number","maximum":1152921504606846976}`, 1 << 60, false},
		{`{"type":"number","minimum":-1152921504606846976}`, -(1 << 60), false},
		{`{"const":1152921504606846976}`, 1 << 60, false},
		{`{"enum":[18446744073709551616]}`, 1 << 64, false},
		{`{"type":"number","maximum":9007199254740992}`, 1 << 53, true}, // written exactly: still proven
	} {
		p := compileBoth(t, c.doc)
		raw := enc(t, c.v)
		t.Run(c.doc, func(t *testing.T) {
			if proven := p.agree(t, c.doc, raw); c.proven && !proven {
				t.Errorf("%v not proven", c.v)
			}
			if tc := p.checker.ForType(reflect.TypeFor[float64]()); tc != nil {
				typedAgree(t, c.doc, p, tc, c.v)
			}
		})
	}
}
