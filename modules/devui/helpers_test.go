package devui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/titantest"
)

// The browser tests share one Chromium, which stops after the tests and
// before goleak looks for goroutines left running.
func TestMain(m *testing.M) { goleak.VerifyTestMain(testsrv.ClosingBrowser(m)) }

// Calc is the service of the tests.
type Calc struct{}

// Point is a struct argument and result.
type Point struct {
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Label string  `json:"label,omitempty"`
}

func (Calc) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }

func (Calc) Div(_ context.Context, a, b float64) (float64, error) {
	if b == 0 {
		return 0, netron.Errorf(netron.CodeInvalidArgument, "division by zero")
	}
	return a / b, nil
}

func (Calc) Mirror(_ context.Context, p Point) (Point, error) {
	return Point{X: p.Y, Y: p.X, Label: p.Label + " mirrored"}, nil
}

func (Calc) Reset(context.Context) error { return nil }

func (Calc) Count(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if ctx.Err() != nil || !yield(i, nil) {
				return
			}
		}
	}
}

// Ticks streams 0, 1, 2, ... every ms milliseconds until it is stopped.
func (Calc) Ticks(ctx context.Context, ms int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := 0; ; i++ {
			if ms > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Duration(ms) * time.Millisecond):
				}
			}
			if ctx.Err() != nil || !yield(i, nil) {
				return
			}
		}
	}
}

// CountThenFail streams 0..n-1, then fails with failed_precondition.
func (Calc) CountThenFail(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
		yield(0, netron.Errorf(netron.CodeFailedPrecondition, "no more numbers"))
	}
}

func calcService(opts ...titan.ServiceOption) titan.Option {
	return titan.Service("calc", "1.0.0", func() Calc { return Calc{} }, append([]titan.ServiceOption{
		titan.Method("add", titan.Args("a", "b")),
		titan.Method("div", titan.Args("a", "b")),
	}, opts...)...)
}

// startUI starts an app serving calc with the UI on, on an http://
// listener, configured with sets too, and returns it with the UI's URL.
func startUI(t *testing.T, sets ...string) (*titantest.App, string) {
	t.Helper()
	app := titantest.StartApp(t,
		titantest.WithSettings(append([]string{"netron.listen=http://127.0.0.1:0", "devui.enabled=true"}, sets...)...),
		calcService())
	return app, app.Addr(t, "http") + devui.BasePath
}

// titanApp starts an app serving calc configured with sets alone.
func titanApp(t *testing.T, sets ...string) *titantest.App {
	t.Helper()
	return titantest.StartApp(t, titantest.WithSettings(sets...), calcService())
}

// titanNew builds (without starting) an app serving calc configured with
// sets.
func titanNew(sets ...string) *titan.App {
	return titan.New(titantest.WithSettings(sets...), calcService())
}

// freePort returns a TCP port free at the time of the call.
func freePort(t *testing.T) int { return testsrv.FreePort(t) }

// answer is an HTTP answer, read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("the answer (%d) is not a JSON object: %v\n%s", a.status, err, a.body)
	}
	return m
}

// failure returns the code and message of an error answer.
func (a answer) failure(t *testing.T) (code, message string) {
	t.Helper()
	e, ok := a.object(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("the answer (%d) is no error: %s", a.status, a.body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

// wantError checks that a is an error answer with the status and code,
// whose message contains each of msgs.
func (a answer) wantError(t *testing.T, status int, code string, msgs ...string) {
	t.Helper()
	if a.status != status {
		t.Errorf("status %d, want %d; body %s", a.status, status, a.body)
	}
	c, m := a.failure(t)
	if c != code {
		t.Errorf("code %q, want %q (message %q)", c, code, m)
	}
	for _, want := range msgs {
		if !strings.Contains(m, want) {
			t.Errorf("message %q does not say %q", m, want)
		}
	}
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	res, err := testsrv.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: b}
}

// get GETs url with the bearer token when not empty.
func get(t *testing.T, url, token string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

// post POSTs body as JSON to url, with header pairs.
func post(t *testing.T, url, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, req)
}

// call calls method of service through the UI's API as the page does.
func call(t *testing.T, base, token, service, method string, args ...any) answer {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	b, err := json.Marshal(map[string]any{"service": service, "method": method, "args": args})
	if err != nil {
		t.Fatal(err)
	}
	var header []string
	if token != "" {
		header = []string{"Authorization", "Bearer " + token}
	}
	return post(t, base+"api/call", string(b), header...)
}

// lines reads an NDJSON answer.
func lines(t *testing.T, a answer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(a.body), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// feed is a client of the event feed.
type feed struct {
	t *testing.T
	c *websocket.Conn
}

// openFeed opens the event feed of the UI at base.
func openFeed(t *testing.T, base string) *feed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20) // events carry up to 64 KiB of payload
	t.Cleanup(func() { _ = c.CloseNow() })
	return &feed{t: t, c: c}
}

func (f *feed) send(msg any) {
	f.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		f.t.Fatal(err)
	}
}

// next reads the next message, within 5 s.
func (f *feed) next() map[string]any {
	f.t.Helper()
	m, err := f.read(5 * time.Second)
	if err != nil {
		f.t.Fatalf("no message from the event feed: %v", err)
	}
	return m
}

func (f *feed) read(within time.Duration) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	_, b, err := f.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errors.New("not JSON: " + string(b))
	}
	return m, nil
}

// subscribe subscribes to pattern and checks the feed's answer.
func (f *feed) subscribe(pattern, token string) {
	f.t.Helper()
	f.send(map[string]any{"subscribe": pattern, "token": token})
	if m := f.next(); m["subscribed"] != pattern {
		f.t.Fatalf("subscribe %q: the feed answered %v", pattern, m)
	}
}
