package protocol

import (
	"bytes"
	"math"
	"strconv"
	"sync"
)

// CallHeader is the call header of the Go-to-Go extension: the element a
// CALL request with the live bit carries after the method name, before the
// arguments. On the wire it is a map with the keys "t" (the caller's
// remaining time in milliseconds, left out when zero) and "m" (metadata,
// string to string, left out when empty; its keys sorted), exactly as
// [AppendValue] writes the struct
//
//	struct {
//		Timeout  int64             `json:"t,omitempty"`
//		Metadata map[string]string `json:"m,omitempty"`
//	}
//
// [AppendCallHeader] and [CallHeader.Decode] write and read it without
// reflection; an agreement test holds them to AppendValue and Unmarshal.
type CallHeader struct {
	Timeout  int64
	Metadata map[string]string
}

// AppendCallHeader appends h's encoding to dst. Metadata with 65,536 keys
// or more cannot be written (a map32, which TypeScript decoders refuse):
// it reports false then and dst is returned unchanged.
func AppendCallHeader(dst []byte, h *CallHeader) ([]byte, bool) {
	if len(h.Metadata) > math.MaxUint16 {
		return dst, false
	}
	n := 0
	if h.Timeout != 0 {
		n++
	}
	if len(h.Metadata) > 0 {
		n++
	}
	e := encoder{buf: dst}
	_ = e.mapHeader(n)
	if h.Timeout != 0 {
		e.str("t")
		e.int64(h.Timeout)
	}
	if len(h.Metadata) > 0 {
		e.str("m")
		_ = e.mapHeader(len(h.Metadata))
		var keys [8]string
		ks := sortedKeys(keys[:0], h.Metadata)
		for _, k := range ks {
			e.str(k)
			e.str(h.Metadata[k])
		}
	}
	return e.buf, true
}

// sortedKeys appends m's keys to dst in byte order (insertion sort: headers
// carry a few keys).
func sortedKeys(dst []string, m map[string]string) []string {
	for k := range m {
		i := len(dst)
		dst = append(dst, k)
		for i > 0 && dst[i-1] > k {
			dst[i] = dst[i-1]
			i--
		}
		dst[i] = k
	}
	return dst
}

// Decode reads a call header from b, which must hold exactly one value: a
// map (or nil, an empty header) whose "t" is a whole number of
// milliseconds and whose "m" is a map of strings to strings (or nil).
// Other keys are read and ignored, as Unmarshal ignores them. It refuses b
// over lim.MaxFrameSize and nesting beyond lim.MaxDepth. The metadata map
// is new (nil when there is none); strings do not alias b.
func (h *CallHeader) Decode(b []byte, lim Limits) error {
	return h.DecodeInterned(b, lim, nil)
}

// DecodeInterned is Decode taking the metadata's strings, and the metadata
// map itself when in kept one of the same encoding, from in (nil: new ones
// each time), for a connection that reads many headers. A map from in is
// shared: it must not be modified.
func (h *CallHeader) DecodeInterned(b []byte, lim Limits, in *Interner) error {
	*h = CallHeader{}
	if len(b) > lim.frameSize() {
		return decodeErr(0, ErrTooLarge, "call header of "+strconv.Itoa(len(b))+" bytes exceeds the limit of "+strconv.Itoa(lim.frameSize()))
	}
	d := decoder{b: b, maxDepth: lim.depth(), strs: in}
	if err := d.callHeader(h); err != nil {
		*h = CallHeader{}
		return err
	}
	if d.off != len(b) {
		*h = CallHeader{}
		return decodeErr(d.off, ErrTrailingBytes, strconv.Itoa(len(b)-d.off)+" trailing bytes")
	}
	return nil
}

func (d *decoder) callHeader(h *CallHeader) error {
	top, err := d.next()
	if err != nil {
		return err
	}
	switch top.k {
	case kNil, kUndefined:
		return nil
	case kMap:
	default:
		return d.malformed(top.start, "call header: expected a map")
	}
	if err := d.enter(top.start); err != nil {
		return err
	}
	for range top.n {
		kb, ks, err := d.keyBytes()
		if err != nil {
			return err
		}
		switch {
		case isKey(kb, ks, "t"):
			if h.Timeout, err = d.millis(); err != nil {
				return err
			}
		case isKey(kb, ks, "m"):
			if err := d.metadata(h); err != nil {
				return err
			}
		default:
			if err := d.skip(); err != nil {
				return err
			}
		}
	}
	d.leave()
	return nil
}

// isKey reports whether a map key read by keyBytes (bytes of a string
// key, or the string form of another key) is want.
func isKey(kb []byte, ks, want string) bool {
	if kb != nil {
		return string(kb) == want
	}
	return ks == want
}

// millis reads a whole number of milliseconds: an integer, or a float
// without a fraction within ±2^53 (§9.1 writes large numbers as floats).
func (d *decoder) millis() (int64, error) {
	h, err := d.next()
	if err != nil {
		return 0, err
	}
	switch h.k {
	case kInt:
		return h.i, nil
	case kFloat:
		if h.f == math.Trunc(h.f) && math.Abs(h.f) <= 1<<53 {
			return int64(h.f), nil
		}
	}
	return 0, d.malformed(h.start, "call header: t: want a whole number of milliseconds")
}

func (d *decoder) metadata(h *CallHeader) error {
	mh, err := d.next()
	if err != nil {
		return err
	}
	switch mh.k {
	case kNil, kUndefined:
		h.Metadata = nil
		return nil
	case kMap:
	default:
		return d.malformed(mh.start, "call header: m: expected a map of strings")
	}
	if md, n := d.strs.keptMetadata(d.b[mh.start:]); md != nil {
		d.off = mh.start + n
		h.Metadata = md
		return nil
	}
	if err := d.enter(mh.start); err != nil {
		return err
	}
	h.Metadata = make(map[string]string, mh.n)
	for range mh.n {
		kb, ks, err := d.keyBytes()
		if err != nil {
			return err
		}
		k := ks
		if kb != nil {
			k = d.strs.String(kb)
		}
		vh, err := d.next()
		if err != nil {
			return err
		}
		switch vh.k {
		case kStr:
			h.Metadata[k] = d.strs.String(d.strBytes(vh.n))
		case kNil, kUndefined:
			h.Metadata[k] = ""
		default:
			return d.malformed(vh.start, "call header: m["+strconv.Quote(k)+"]: expected a string")
		}
	}
	d.leave()
	if mh.n <= keptMapKeys { // the map was made for mh.n keys
		d.strs.keepMetadata(d.b[mh.start:d.off], h.Metadata)
	}
	return nil
}

// Interner hands out one string per distinct short byte sequence, so that
// values a connection repeats on every call (a metadata key such as
// "authorization", a token) are allocated once per connection instead of
// once per call. It keeps at most a fixed number of strings, each at most
// a fixed length, so a peer sending ever-new values costs it nothing more.
//
// It also keeps the last few small metadata maps it decoded, by their
// encoding (see keptMaps): a header whose metadata is encoded as one of
// them gets that map again, so a connection that sends the same metadata
// on every call (a token) costs no map per call. Such a map is shared by
// those calls, which is why the metadata a call is served with must not be
// modified. (A kept map is not read again, so the depth limit it passed is
// not applied again: an Interner serves one connection, whose limits do
// not change.)
//
// Safe for concurrent use.
type Interner struct {
	mu     sync.Mutex
	strs   map[string]string
	max    int
	maxLen int
	mds    [keptMaps]keptMap
	nextMD int // the entry of mds to replace next
}

// keptMaps metadata maps are kept, each only when it has at most
// keptMapKeys keys (as its header counts them: the map is made for that
// many) and is encoded in at most keptMapLen bytes: a peer sending
// ever-new metadata costs at most that much memory.
const (
	keptMaps    = 4
	keptMapKeys = 16
	keptMapLen  = 512
)

// keptMap is a metadata map the Interner keeps, and its encoding.
type keptMap struct {
	raw []byte
	md  map[string]string
}

// keptMetadata returns a kept map whose encoding b starts with, and the
// length of that encoding; nil when none is kept. A MessagePack value
// delimits itself, so the kept encoding at the start of b is the whole
// value there.
func (in *Interner) keptMetadata(b []byte) (map[string]string, int) {
	if in == nil {
		return nil, 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := range in.mds {
		if k := &in.mds[i]; k.md != nil && bytes.HasPrefix(b, k.raw) {
			return k.md, len(k.raw)
		}
	}
	return nil, 0
}

// keepMetadata keeps md, decoded from raw, in place of the entry kept
// longest. The replaced entry's buffer is reused: no map refers to it.
func (in *Interner) keepMetadata(raw []byte, md map[string]string) {
	if in == nil || len(raw) > keptMapLen {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	k := &in.mds[in.nextMD]
	k.raw, k.md = append(k.raw[:0], raw...), md
	in.nextMD = (in.nextMD + 1) % keptMaps
}

// NewInterner returns an Interner keeping at most maxStrings strings of at
// most maxLen bytes each.
func NewInterner(maxStrings, maxLen int) *Interner {
	return &Interner{max: maxStrings, maxLen: maxLen}
}

// String returns b as a string: the kept one when b was seen before.
func (in *Interner) String(b []byte) string {
	if in == nil || len(b) > in.maxLen {
		return makeString(b)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if s, ok := in.strs[string(b)]; ok {
		return s
	}
	s := makeString(b)
	if len(in.strs) < in.max {
		if in.strs == nil {
			in.strs = make(map[string]string)
		}
		in.strs[s] = s
	}
	return s
}
