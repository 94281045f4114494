package devui_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/titanframework/titan/internal/testsrv"
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
