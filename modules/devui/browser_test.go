package devui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/titantest"
)

// The page in Chromium, against an app with the security module on: the
// protected method is hidden until the token is entered, then called as
// the token's subject; a struct argument is filled in the form its schema
// makes (nested fields), and the arguments can be edited as JSON. A
// JavaScript error of the page fails the test.
func TestPageInBrowser(t *testing.T) {
	t.Parallel()
	_, base := startSecureUI(t)
	b := testsrv.NewBrowser(t)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	method := func(service, name string) chromedp.CSS {
		return css(fmt.Sprintf(`button.method-button[data-service=%q][data-method=%q]`, service, name))
	}
	field := func(path string) chromedp.CSS { return css(fmt.Sprintf(`#call-form [data-path=%q]`, path)) }

	b.Do("open the page without a token",
		chromedp.Navigate(base),
		chromedp.WaitVisible(method("vault@1.0.0", "ping")),
		chromedp.WaitNotPresent(method("vault@1.0.0", "open")),
	)

	b.Do("enter alice's admin token",
		chromedp.SendKeys(css("#token"), token(t, "alice", "admin")),
		chromedp.Blur(css("#token")),
		chromedp.WaitVisible(method("vault@1.0.0", "open")),
		chromedp.Click(method("vault@1.0.0", "open")),
		chromedp.WaitVisible(field("0")),
		chromedp.SendKeys(field("0"), "gold"),
		chromedp.Click(css("#call-button")),
		chromedp.WaitVisible(css("#result.ok #result-value")),
	)
	if got := b.Text("#result-value"); strings.TrimSpace(got) != `"opened gold for alice"` {
		t.Errorf("vault.open as alice shows %s", got)
	}

	// mirror(Point): a fieldset of x, y and the optional label.
	b.Do("call mirror with a point",
		chromedp.Click(method("calc@1.0.0", "mirror")),
		chromedp.WaitVisible(field("0.label")),
		chromedp.SendKeys(field("0.x"), "1.5"),
		chromedp.SendKeys(field("0.y"), "-2"),
		chromedp.SendKeys(field("0.label"), "p"),
		chromedp.Click(css("#call-button")),
		chromedp.WaitVisible(css("#result.ok #result-value")),
	)
	var p Point
	if err := json.Unmarshal([]byte(b.Text("#result-value")), &p); err != nil || p != (Point{X: -2, Y: 1.5, Label: "p mirrored"}) {
		t.Errorf("mirror shows %+v (%v)", p, err)
	}

	// The same call, its arguments edited as JSON: a label left out.
	b.Do("call mirror with JSON arguments",
		chromedp.Click(css("#json-toggle")),
		chromedp.WaitVisible(css("#args-json")),
		chromedp.SetValue(css("#args-json"), `[{"x": 3, "y": 4}]`),
		chromedp.Click(css("#call-button")),
		chromedp.WaitVisible(css("#result.ok #result-value")),
	)
	if err := json.Unmarshal([]byte(b.Text("#result-value")), &p); err != nil || p != (Point{X: 4, Y: 3, Label: " mirrored"}) {
		t.Errorf("mirror with JSON arguments shows %+v (%v)", p, err)
	}

	// A form the contract refuses: the error names the argument.
	b.Do("call add with one argument",
		chromedp.Click(method("calc@1.0.0", "add")),
		chromedp.WaitVisible(field("1")),
		chromedp.SendKeys(field("0"), "2"),
		chromedp.Click(css("#call-button")),
		chromedp.WaitVisible(css("#result.error #error-code")),
	)
	if code, msg := b.Text("#error-code"), b.Text("#error-message"); code != "invalid_argument" || !strings.Contains(msg, "argument 2 (b)") {
		t.Errorf("add with b left empty shows %s: %s", code, msg)
	}

	// The peers and the metrics, which the admin token may see.
	b.Do("open the metrics",
		chromedp.Click(css("#tab-metrics")),
		chromedp.WaitVisible(css("#calls-table tbody td.mono")),
		chromedp.Click(css("#tab-peers")),
		chromedp.WaitVisible(css("#peers-table tbody tr")),
	)
	if st := b.Text("#metrics-status"); strings.Contains(st, "unauthenticated") || strings.Contains(st, "permission_denied") {
		t.Errorf("the metrics with alice's token: %s", st)
	}
}

// TreeNode is a recursive argument: its schema is a contract of its own.
type TreeNode struct {
	Name string    `json:"name"`
	Next *TreeNode `json:"next,omitempty"`
}

// Tree serves a method over TreeNode.
type Tree struct{}

func (Tree) Depth(_ context.Context, n *TreeNode) (int, error) {
	d := 0
	for ; n != nil; n = n.Next {
		d++
	}
	return d, nil
}

// treeInput is the contract of Tree.depth: a node whose next is a node.
const treeInput = `{"type":"array","prefixItems":[{"$ref":"#/$defs/node"}],"minItems":1,"maxItems":1,
"$defs":{"node":{"type":"object","properties":{"name":{"type":"string"},
"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},"required":["name"]}}}`

// The form of a recursive contract ends where the schema comes back to
// itself: the node's fields, then its next node as JSON. The page does
// not recurse without end.
func TestPageFormOfRecursiveContract(t *testing.T) {
	t.Parallel()
	app := titantest.StartApp(t,
		titantest.WithSettings("netron.listen=http://127.0.0.1:0", "devui.enabled=true"),
		titan.Service("tree", "1.0.0", func() Tree { return Tree{} },
			titan.Contract("depth", json.RawMessage(treeInput), nil)))
	base := app.Addr(t, "http") + devui.BasePath
	b := testsrv.NewBrowser(t)
	field := func(path string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`#call-form [data-path=%q]`, path)) }
	b.Do("call depth with a chain of two nodes",
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS(`button.method-button[data-service="tree@1.0.0"][data-method="depth"]`)),
		chromedp.Click(chromedp.CSS(`button.method-button[data-service="tree@1.0.0"][data-method="depth"]`)),
		chromedp.WaitVisible(field("0.next")),
		chromedp.SendKeys(field("0.name"), "a"),
		chromedp.SetValue(field("0.next"), `{"name": "b"}`),
		chromedp.Click(chromedp.CSS("#call-button")),
		chromedp.WaitVisible(chromedp.CSS("#result.ok #result-value")),
	)
	if got := strings.TrimSpace(b.Text("#result-value")); got != "2" {
		t.Errorf("depth of a chain of two nodes shows %s", got)
	}
}

// A link to the page whose fragment is not a method's (a stray "%" in
// it) opens the page with no method picked, without an error.
func TestPageOpensWithABadFragment(t *testing.T) {
	t.Parallel()
	_, base := startUI(t)
	b := testsrv.NewBrowser(t)
	add := chromedp.CSS(`button.method-button[data-service="calc@1.0.0"][data-method="add"]`)
	b.Do("open the page at #/calc%/add",
		chromedp.Navigate(base+"#/calc%/add"),
		chromedp.WaitVisible(add),
		chromedp.Click(add),
		chromedp.WaitVisible(chromedp.CSS(`#call-form [data-path="1"]`)),
	)
}

// The event monitor's subscriptions are the token's: when the token in
// the page is cleared, they are made again without it (and refused), and
// no event reaches the page as the token's caller any more.
func TestPageEventsFollowTheToken(t *testing.T) {
	t.Parallel()
	app, base := startSecureUI(t)
	b := testsrv.NewBrowser(t)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	chip := css(`#subscriptions [data-pattern="vault.>"][data-state="active"]`)
	emit := func(topic string) chromedp.Action[chromedp.Void] {
		return func(context.Context, *chromedp.Target) (chromedp.Void, error) {
			return chromedp.Void{}, app.Netron().Emit(context.Background(), topic, "gold")
		}
	}
	setToken := func(tok string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const t = document.querySelector('#token'); t.value = %q; t.dispatchEvent(new Event('change')); })()`, tok))
	}
	admin := token(t, "alice", "admin")
	b.Do("subscribe with alice's admin token",
		chromedp.Navigate(base),
		chromedp.WaitVisible(css("#token")),
		setToken(admin),
		chromedp.Click(css("#tab-events")),
		chromedp.SetValue(css("#event-pattern"), "vault.>"),
		chromedp.Click(css("#subscribe-button")),
		chromedp.WaitVisible(chip),
		emit("vault.first"),
		chromedp.WaitVisible(css(`#event-list [data-topic="vault.first"]`)),
	)
	b.Do("clear the token",
		setToken(""),
		chromedp.WaitNotPresent(css(`#subscriptions [data-pattern="vault.>"]`)),
		chromedp.WaitVisible(css(`#events-status.bad`)),
	)
	if st := b.Text("#events-status"); !strings.Contains(st, "unauthenticated") {
		t.Errorf("the subscription made again without a token: %s", st)
	}
	b.Do("subscribe again with the token",
		emit("vault.second"),
		setToken(admin),
		chromedp.SetValue(css("#event-pattern"), "vault.>"),
		chromedp.Click(css("#subscribe-button")),
		chromedp.WaitVisible(chip),
		emit("vault.third"),
		chromedp.WaitVisible(css(`#event-list [data-topic="vault.third"]`)),
	)
	if list := b.Text("#event-list"); strings.Contains(list, "vault.second") {
		t.Errorf("the page shows vault.second, emitted while it had no token:\n%s", list)
	}
}

// Labels echoes a map of labels.
type Labels struct{}

func (Labels) Echo(_ context.Context, m map[string]string) (map[string]string, error) { return m, nil }

// labelsInput is the contract of Labels.echo: an object whose fields
// include one named __proto__, which a JavaScript object takes as its
// prototype when assigned by key.
const labelsInput = `{"type":"array","prefixItems":[{"type":"object","properties":{
"__proto__":{"type":"string"},"name":{"type":"string"}}}],"minItems":1,"maxItems":1}`

// Each field of an object's form reaches the call, one named __proto__
// too.
func TestPageFormFieldNamedProto(t *testing.T) {
	t.Parallel()
	app := titantest.StartApp(t,
		titantest.WithSettings("netron.listen=http://127.0.0.1:0", "devui.enabled=true"),
		titan.Service("labels", "1.0.0", func() Labels { return Labels{} },
			titan.Contract("echo", json.RawMessage(labelsInput), nil)))
	base := app.Addr(t, "http") + devui.BasePath
	b := testsrv.NewBrowser(t)
	echo := chromedp.CSS(`button.method-button[data-service="labels@1.0.0"][data-method="echo"]`)
	field := func(path string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`#call-form [data-path=%q]`, path)) }
	b.Do("call echo with __proto__ and name",
		chromedp.Navigate(base),
		chromedp.WaitVisible(echo),
		chromedp.Click(echo),
		chromedp.WaitVisible(field("0.__proto__")),
		chromedp.SendKeys(field("0.__proto__"), "p"),
		chromedp.SendKeys(field("0.name"), "n"),
		chromedp.Click(chromedp.CSS("#call-button")),
		chromedp.WaitVisible(chromedp.CSS("#result.ok #result-value")),
	)
	var got map[string]string
	if err := json.Unmarshal([]byte(b.Text("#result-value")), &got); err != nil || got["__proto__"] != "p" || got["name"] != "n" {
		t.Errorf("echo shows %v (%v), want __proto__: p and name: n", got, err)
	}
}

// The token entered in the UI of one app is not the token of the UI of
// another app served on the same origin under another path (behind one
// reverse proxy): a tab shares its session storage across the paths of
// an origin, and the page keeps the token there, by the UI's path.
func TestPageTokenIsThePathsOwn(t *testing.T) {
	t.Parallel()
	appA, _ := startUI(t)
	appB, _ := startUI(t)
	mux := http.NewServeMux()
	for prefix, app := range map[string]*titantest.App{"/a/": appA, "/b/": appB} {
		h := devui.NewHandler(devui.Local(app.Netron(), nil))
		t.Cleanup(h.Close)
		mux.Handle(prefix, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b := testsrv.NewBrowser(t)
	add := chromedp.CSS(`button.method-button[data-service="calc@1.0.0"][data-method="add"]`)
	// The services, or why they are not listed (the apps refuse a
	// token: they have no security module).
	listed := chromedp.CSS(`button.method-button, #services .failure`)
	tokenValue := func(out *string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tgt *chromedp.Target) (chromedp.Void, error) {
			v, err := chromedp.Value(chromedp.CSS("#token"))(ctx, tgt)
			*out = v
			return chromedp.Void{}, err
		}
	}
	var inB, inA string
	b.Do("enter a token in the UI of app a",
		chromedp.Navigate(srv.URL+"/a"+devui.BasePath),
		chromedp.WaitVisible(add),
		chromedp.Evaluate[chromedp.Void](`(() => { const t = document.querySelector('#token'); t.value = 'the token of a'; t.dispatchEvent(new Event('change')); })()`),
	)
	b.Do("open the UI of app b, then that of app a again",
		chromedp.Navigate(srv.URL+"/b"+devui.BasePath),
		chromedp.WaitVisible(listed),
		tokenValue(&inB),
		chromedp.Navigate(srv.URL+"/a"+devui.BasePath),
		chromedp.WaitVisible(listed),
		tokenValue(&inA),
	)
	if inB != "" {
		t.Errorf("the UI of app b shows the token %q, entered in the UI of app a", inB)
	}
	if inA != "the token of a" {
		t.Errorf("the UI of app a shows the token %q, want the one entered in it", inA)
	}
}

// Int64s answers and takes 64-bit integers, beyond the 2^53 a JavaScript
// number holds exactly.
type Int64s struct{}

func (Int64s) Echo(_ context.Context, n int64) (int64, error) { return n, nil }

func (Int64s) Largest(context.Context) (int64, error) { return 1<<62 + 1, nil }

// The page shows and sends a 64-bit integer as the app has it, not
// rounded to the nearest JavaScript number: a database id of 2^53+1 must
// not show as 2^53.
func TestPageKeepsLargeIntegers(t *testing.T) {
	t.Parallel()
	app := titantest.StartApp(t,
		titantest.WithSettings("netron.listen=http://127.0.0.1:0", "devui.enabled=true"),
		titan.Service("int64s", "1.0.0", func() Int64s { return Int64s{} }))
	base := app.Addr(t, "http") + devui.BasePath
	b := testsrv.NewBrowser(t)
	method := func(name string) chromedp.CSS {
		return chromedp.CSS(fmt.Sprintf(`button.method-button[data-service="int64s@1.0.0"][data-method=%q]`, name))
	}
	b.Do("call largest",
		chromedp.Navigate(base),
		chromedp.WaitVisible(method("largest")),
		chromedp.Click(method("largest")),
		chromedp.Click(chromedp.CSS("#call-button")),
		chromedp.WaitVisible(chromedp.CSS("#result.ok #result-value")),
	)
	if got := strings.TrimSpace(b.Text("#result-value")); got != "4611686018427387905" {
		t.Errorf("largest shows %s, want 4611686018427387905", got)
	}
	b.Do("call echo with 9007199254740993 in the form",
		chromedp.Click(method("echo")),
		chromedp.WaitVisible(chromedp.CSS(`#call-form [data-path="0"]`)),
		chromedp.SendKeys(chromedp.CSS(`#call-form [data-path="0"]`), "9007199254740993"),
		chromedp.Click(chromedp.CSS("#call-button")),
		chromedp.WaitVisible(chromedp.CSS("#result.ok #result-value")),
	)
	if got := strings.TrimSpace(b.Text("#result-value")); got != "9007199254740993" {
		t.Errorf("echo of 9007199254740993 from the form shows %s", got)
	}
	b.Do("call echo with -9007199254740995 as JSON",
		chromedp.Click(method("echo")), // a new form, without the result before
		chromedp.WaitNotPresent(chromedp.CSS("#result.ok #result-value")),
		chromedp.Click(chromedp.CSS("#json-toggle")),
		chromedp.WaitVisible(chromedp.CSS("#args-json")),
		chromedp.SetValue(chromedp.CSS("#args-json"), `[-9007199254740995]`),
		chromedp.Click(chromedp.CSS("#call-button")),
		chromedp.WaitVisible(chromedp.CSS("#result.ok #result-value")),
	)
	if got := strings.TrimSpace(b.Text("#result-value")); got != "-9007199254740995" {
		t.Errorf("echo of -9007199254740995 as JSON shows %s", got)
	}
}

// bigInput is a contract whose values are integers beyond 2^53: an enum
// of them, and an integer with its bounds and default.
const bigInput = `{"type":"array","prefixItems":[{"enum":[9007199254740993,1]},
{"type":"integer","minimum":-9007199254740995,"maximum":9007199254740993,"default":9007199254740993}],"minItems":2,"maxItems":2}`

// Pair echoes the first of its two 64-bit integers.
type Pair struct{}

func (Pair) First(_ context.Context, a, _ int64) (int64, error) { return a, nil }

// The page keeps the integers of a contract beyond 2^53 as the contract
// has them: the schema it shows, the enum values it sends, and the
// bounds and default of a number field.
func TestPageKeepsLargeIntegersOfContracts(t *testing.T) {
	t.Parallel()
	app := titantest.StartApp(t,
		titantest.WithSettings("netron.listen=http://127.0.0.1:0", "devui.enabled=true"),
		titan.Service("pair", "1.0.0", func() Pair { return Pair{} },
			titan.Contract("first", json.RawMessage(bigInput), nil)))
	base := app.Addr(t, "http") + devui.BasePath
	b := testsrv.NewBrowser(t)
	first := chromedp.CSS(`button.method-button[data-service="pair@1.0.0"][data-method="first"]`)
	field := func(path string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`#call-form [data-path=%q]`, path)) }
	b.Do("open first",
		chromedp.Navigate(base),
		chromedp.WaitVisible(first),
		chromedp.Click(first),
		chromedp.WaitVisible(field("1")),
	)
	if s := b.Text("#input-schema"); strings.Count(s, "9007199254740993") != 3 || !strings.Contains(s, "-9007199254740995") {
		t.Errorf("the input schema shows\n%s", s)
	}
	b.Do("check the bounds and the default of the integer's field",
		chromedp.Evaluate[chromedp.Void](`(() => {
			const i = document.querySelector('#call-form [data-path="1"]');
			const got = [i.min, i.max, i.placeholder].join(' ');
			if (got !== '-9007199254740995 9007199254740993 9007199254740993') throw new Error('min, max and placeholder: ' + got);
		})()`),
	)
	b.Do("call first with the large enum value",
		chromedp.SetValue(field("0"), "0"),
		chromedp.SendKeys(field("1"), "1"),
		chromedp.Click(chromedp.CSS("#call-button")),
		chromedp.WaitVisible(chromedp.CSS("#result.ok #result-value")),
	)
	if got := strings.TrimSpace(b.Text("#result-value")); got != "9007199254740993" {
		t.Errorf("first of the enum value 9007199254740993 shows %s", got)
	}
}
