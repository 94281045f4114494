package netron_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Parcel is an argument and result with a binary field (the reflective
// decoder's path).
type Parcel struct {
	N    int    `json:"n"`
	Data []byte `json:"data"`
}

// Keeper answers with what it is sent and keeps every binary argument.
type Keeper struct {
	mu    sync.Mutex
	kept  [][]byte
	texts []string
}

func (k *Keeper) keep(b []byte) {
	k.mu.Lock()
	k.kept = append(k.kept, b)
	k.mu.Unlock()
}

// Text takes the fast path with a string, kept as the method got it.
func (k *Keeper) Text(_ context.Context, s string) (string, error) {
	k.mu.Lock()
	k.texts = append(k.texts, s)
	k.mu.Unlock()
	return s, nil
}

// Bytes takes the fast path ([]byte argument and result).
func (k *Keeper) Bytes(_ context.Context, b []byte) ([]byte, error) {
	k.keep(b)
	return b, nil
}

// Blob takes the reflective path.
func (k *Keeper) Blob(_ context.Context, b Parcel) (Parcel, error) {
	k.keep(b.Data)
	return b, nil
}

// KeeperClient is Keeper bound on the calling side (Peer.Bind).
type KeeperClient struct {
	Bytes func(ctx context.Context, b []byte) ([]byte, error)
	Blob  func(ctx context.Context, b Parcel) (Parcel, error)
}

// Long binary arguments and results of unary calls are decoded as slices
// of the frames they came in (protocol.UnmarshalLent), which then never go
// back to the frame pool, and strings are copies: whatever a method keeps of its arguments, and
// whatever a caller keeps of its results, must still hold its own bytes
// after many more calls have passed through the same pool, on every
// transport, through CallUnary and a bound client, on the fast and the
// reflective path, for values on both sides of OwnedBinMin.
func TestUnaryBytesKeptIntact(t *testing.T) {
	t.Parallel()
	sizes := []int{1, 1023, 1024, 1025, 4096, 70000}
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			s, _ := netronServer(t, scheme, netron.Config{}, nil)
			k := &Keeper{}
			if err := s.n.Register("keeper", "1.0.0", k); err != nil {
				t.Fatal(err)
			}
			p := dial(t, s.addr)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var bound KeeperClient
			if err := p.Bind(ctx, "keeper@1.0.0", &bound); err != nil {
				t.Fatal(err)
			}
			// Call i sends len sizes[i%6] filled with byte(i); four ways;
			// then strings.
			var want, got [][]byte
			for i := range 96 {
				in := bytes.Repeat([]byte{byte(i)}, sizes[i%len(sizes)])
				want = append(want, in)
				var (
					out []byte
					err error
				)
				switch i / len(sizes) % 4 {
				case 0:
					out, err = netron.CallUnary[[]byte](ctx, p, "keeper@1.0.0", "bytes", in)
				case 1:
					var b Parcel
					b, err = netron.CallUnary[Parcel](ctx, p, "keeper@1.0.0", "blob", Parcel{N: i, Data: in})
					out = b.Data
				case 2:
					out, err = bound.Bytes(ctx, in)
				case 3:
					var b Parcel
					b, err = bound.Blob(ctx, Parcel{N: i, Data: in})
					out = b.Data
				}
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				got = append(got, out)
			}
			check := func(side string, kept [][]byte) {
				t.Helper()
				if len(kept) != len(want) {
					t.Fatalf("%s kept %d values, want %d", side, len(kept), len(want))
				}
				for i, b := range kept {
					if !bytes.Equal(b, want[i]) {
						t.Fatalf("%s: value %d (%d bytes, way %d) changed after later calls: %s", side, i, len(want[i]), i/len(sizes)%4, first(b))
					}
				}
			}
			var wantTexts, gotTexts []string
			for i := range 48 {
				in := strings.Repeat(string(rune('a'+i%26)), sizes[i%len(sizes)])
				out, err := netron.CallUnary[string](ctx, p, "keeper@1.0.0", "text", in)
				if err != nil {
					t.Fatalf("text call %d: %v", i, err)
				}
				wantTexts, gotTexts = append(wantTexts, in), append(gotTexts, out)
			}
			check("the caller", got)
			k.mu.Lock()
			defer k.mu.Unlock()
			check("the method", k.kept)
			if len(k.texts) != len(wantTexts) {
				t.Fatalf("the method kept %d strings, want %d", len(k.texts), len(wantTexts))
			}
			for i := range wantTexts {
				if gotTexts[i] != wantTexts[i] || k.texts[i] != wantTexts[i] {
					t.Fatalf("string %d (%d bytes) changed after later calls: the caller's %s, the method's %s",
						i, len(wantTexts[i]), first([]byte(gotTexts[i])), first([]byte(k.texts[i])))
				}
			}
		})
	}
}

// first describes the start of b.
func first(b []byte) string {
	return fmt.Sprintf("starts %x", b[:min(len(b), 8)])
}
