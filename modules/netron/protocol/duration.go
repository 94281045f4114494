package protocol

import (
	"reflect"
	"time"
)

var durationType = reflect.TypeFor[time.Duration]()

// durationEncoder writes a time.Duration as its Go string ("1.5s"), the
// form Titan's JSON Schemas, configuration and HTTP use for durations.
func durationEncoder(e *encoder, v reflect.Value) error {
	e.str(time.Duration(v.Int()).String())
	return nil
}

// durationDecoder reads a duration string ("1.5s", "250ms") or an integer
// number of nanoseconds into a time.Duration.
func durationDecoder(d *decoder, v reflect.Value) error {
	h, err := d.next()
	if err != nil {
		return err
	}
	switch h.k {
	case kStr:
		s := string(d.strBytes(h.n))
		dur, err := time.ParseDuration(s)
		if err != nil {
			return decodeErr(h.start, ErrTypeMismatch, "invalid duration "+quoteShort(s))
		}
		v.SetInt(int64(dur))
	case kInt:
		v.SetInt(h.i)
	case kNil, kUndefined:
		v.SetInt(0)
	default:
		return mismatch(h, v.Type())
	}
	return nil
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + s + `"`
}
