package http_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// A batch's answer is one message, as a drained stream's array is: its
// responses together take at most netron's maxFrameSize bytes (1 MiB
// here), not that much each. 16 streams of 15 items of 64 KiB, each within
// the limit alone, are not answered whole (16 MiB): the responses past the
// limit fail with 413 naming it, the others are answered.
func TestBatchAnswerIsBoundedInBytes(t *testing.T) {
	n, err := netron.New(netron.Config{MaxFrameSize: 1 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := blobs{sent: make(chan int, 64)}
	if err := n.Register("blobs", "1.0.0", b); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	c := client(t)
	for _, parallel := range []bool{false, true} {
		var body strings.Builder
		body.WriteString(`{"id":"b","requests":[`)
		for i := range 16 {
			if i > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"id":"q%d","service":"blobs@1.0.0","method":"chunks","input":[15,65536]}`, i)
		}
		fmt.Fprintf(&body, `],"options":{"parallel":%v}}`, parallel)
		r := post(t, c, addr+"/netron/batch", body.String())
		if r.status != http.StatusOK {
			t.Fatalf("parallel %v: %d %.300s, want 200", parallel, r.status, r.body)
		}
		if len(r.body) > 1<<20+64<<10 {
			t.Errorf("parallel %v: an answer of %d bytes, want at most about netron.maxFrameSize (%d)", parallel, len(r.body), 1<<20)
		}
		hints, _ := r.obj(t)["hints"].(map[string]any)
		if fmt.Sprint(hints["successCount"]) != "1" || fmt.Sprint(hints["failureCount"]) != "15" {
			t.Errorf("parallel %v: hints %v, want 1 response answered and 15 refused", parallel, hints)
		}
		if !strings.Contains(string(r.body), `"code":"413","message":"Batch answer too large`) {
			t.Errorf("parallel %v: %.300s…, want the refused responses to name the limit", parallel, r.body[max(0, len(r.body)-600):])
		}
		for range 16 {
			<-b.sent
		}
	}
}
