package http_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// TestBatchTimeBound: the requests of a batch together take at most the
// gateway's timeout (http.timeout, WithTimeout), however they are run, not
// that much each: a request the batch's time cuts short, and those that
// would start after it, fail naming the limit.
func TestBatchTimeBound(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", httptransport.WithGatewayOptions(httptransport.WithTimeout(300*time.Millisecond)))
	c := client(t)
	sleep := func(id string, ms int) string {
		return `{"id":"` + id + `","service":"calculator","method":"sleep","input":[` + strconv.Itoa(ms) + `]}`
	}
	requests := strings.Join([]string{sleep("q0", 200), sleep("q1", 5000), sleep("q2", 5000), sleep("q3", 5000)}, ",")
	for _, options := range []string{`{"parallel":false}`, `{"parallel":true,"maxConcurrency":1}`} {
		t.Run(options, func(t *testing.T) {
			r := post(t, c, s.addr+"/netron/batch", `{"id":"b","requests":[`+requests+`],"options":`+options+`}`)
			var got struct {
				Responses []struct {
					ID      string `json:"id"`
					Success bool   `json:"success"`
					Error   struct {
						Message string `json:"message"`
					} `json:"error"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || len(got.Responses) != 4 {
				t.Fatalf("batch: %d %s, want 200 with 4 responses", r.status, r.body)
			}
			want := []string{
				"",
				"Request timed out: the batch's requests together may take at most 300ms (http.timeout, WithTimeout)",
				"Not run: the batch's requests together may take at most 300ms (http.timeout, WithTimeout), and that time had passed",
				"Not run: the batch's requests together may take at most 300ms (http.timeout, WithTimeout), and that time had passed",
			}
			for i, res := range got.Responses {
				if res.Success != (want[i] == "") || res.Error.Message != want[i] {
					t.Errorf("response %d: success %v %q; want %q", i, res.Success, res.Error.Message, want[i])
				}
			}
		})
	}
}
