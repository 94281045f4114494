package netron_test

import (
	"bytes"
	"context"
	"iter"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Blobs streams binary items of the lengths asked, item i filled with i.
type Blobs struct{}

func (Blobs) Stream(_ context.Context, sizes []int) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for i, n := range sizes {
			if !yield(bytes.Repeat([]byte{byte(i)}, n), nil) {
				return
			}
		}
	}
}

// Large binary stream items are decoded from their own frames without a
// copy (protocol.UnmarshalOwned): every item a reader keeps must still hold
// its own bytes after the items that followed it were read, through
// CallStream and through Recv, on every transport.
func TestStreamItemsKeptIntact(t *testing.T) {
	t.Parallel()
	var sizes []int
	for i := range 60 {
		sizes = append(sizes, []int{1, 1023, 1024, 1025, 4096, 70000}[i%6])
	}
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			s, _ := netronServer(t, scheme, netron.Config{}, nil)
			if err := s.n.Register("blobs", "1.0.0", Blobs{}); err != nil {
				t.Fatal(err)
			}
			p := dial(t, s.addr)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			check := func(how string, got [][]byte) {
				t.Helper()
				if len(got) != len(sizes) {
					t.Fatalf("%s: %d items, want %d", how, len(got), len(sizes))
				}
				for i, b := range got {
					if want := bytes.Repeat([]byte{byte(i)}, sizes[i]); !bytes.Equal(b, want) {
						t.Fatalf("%s: item %d (%d bytes) changed after it was read", how, i, sizes[i])
					}
				}
			}
			var kept [][]byte
			for b, err := range netron.CallStream[[]byte](ctx, p, "blobs@1.0.0", "stream", sizes) {
				if err != nil {
					t.Fatal(err)
				}
				kept = append(kept, b)
			}
			check("CallStream", kept)

			st, err := p.OpenStream(ctx, "blobs@1.0.0", "stream", sizes)
			if err != nil {
				t.Fatal(err)
			}
			kept = kept[:0]
			for {
				var b []byte
				if err := st.Recv(&b); err != nil {
					break
				}
				kept = append(kept, b)
			}
			check("Recv", kept)
		})
	}
}

// Rec is a stream item whose fields come and go (omitempty).
type Rec struct {
	N    int            `json:"n"`
	Name string         `json:"name,omitempty"`
	Tags []string       `json:"tags,omitempty"`
	M    map[string]int `json:"m,omitempty"`
	P    *int           `json:"p,omitempty"`
}

// Recs streams n records, the odd ones with every field set, the even ones
// with only N.
type Recs struct{}

func (Recs) Stream(_ context.Context, n int) iter.Seq2[Rec, error] {
	return func(yield func(Rec, error) bool) {
		for i := range n {
			r := Rec{N: i}
			if i%2 == 1 {
				p := i
				r = Rec{N: i, Name: "odd", Tags: []string{"a", "b"}, M: map[string]int{"i": i}, P: &p}
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// Struct items are decoded one after another into the same place: an item
// must not keep fields of the one before it, nor share its slices, maps or
// pointers.
func TestStreamStructItemsIndependent(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{}, nil)
	if err := s.n.Register("recs", "1.0.0", Recs{}); err != nil {
		t.Fatal(err)
	}
	p := dial(t, s.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var kept []Rec
	for r, err := range netron.CallStream[Rec](ctx, p, "recs@1.0.0", "stream", 20) {
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, r)
	}
	if len(kept) != 20 {
		t.Fatalf("%d items, want 20", len(kept))
	}
	for i, r := range kept {
		if i%2 == 0 {
			if r.Name != "" || r.Tags != nil || r.M != nil || r.P != nil || r.N != i {
				t.Fatalf("item %d kept fields of the item before it: %+v", i, r)
			}
			continue
		}
		if r.N != i || r.Name != "odd" || len(r.Tags) != 2 || r.M["i"] != i || r.P == nil || *r.P != i {
			t.Fatalf("item %d = %+v", i, r)
		}
		if i > 1 && (&r.Tags[0] == &kept[i-2].Tags[0] || r.P == kept[i-2].P) {
			t.Fatalf("item %d shares a slice or pointer with item %d", i, i-2)
		}
	}
}
