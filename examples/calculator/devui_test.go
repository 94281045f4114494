package main_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/titanframework/titan/internal/testsrv"
)

var update = flag.Bool("update", false, "write the tester's screenshot of TestDevUIInBrowser to docs/devui.png")

// TestDevUIInBrowser opens the development UI of the calculator in
// Chromium: picks add, fills 2 and 3 in the form made from its input
// schema, presses Call and sees 5; calls div with 0 and sees the error's
// code; sees in the event monitor the calculator.computed event of the
// add; opens the count stream and sees its items. A JavaScript error of
// the page fails it. It saves screenshots of the explorer, the tester,
// the error and the event monitor (with -update, the tester's becomes
// docs/devui.png).
func TestDevUIInBrowser(t *testing.T) {
	t.Parallel()
	addrs := startCalculator(t, 2, nil, "--set", "devui.enabled=true",
		"--set", "netron.listen=tcp://127.0.0.1:0,http://127.0.0.1:0")
	var page string
	for _, a := range addrs {
		if strings.HasPrefix(a, "http://") {
			page = a + "/_titan/"
		}
	}
	if page == "" {
		t.Fatalf("the calculator listens on no http:// address: %v", addrs)
	}
	b := testsrv.NewBrowser(t)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	method := func(name string) chromedp.CSS {
		return css(fmt.Sprintf(`button.method-button[data-service="calculator@1.0.0"][data-method=%q]`, name))
	}
	arg := func(i int) chromedp.CSS { return css(fmt.Sprintf(`#call-form [data-path="%d"]`, i)) }

	// The explorer: the service, its methods, add's contracts.
	b.Do("open the explorer and pick add",
		chromedp.Navigate(page),
		chromedp.WaitVisible(method("add")),
		chromedp.Click(method("add")),
		chromedp.WaitVisible(arg(1)),
	)
	if title := b.Text("#method-title"); !strings.Contains(title, "calculator@1.0.0") || !strings.Contains(title, "add") {
		t.Errorf("the method's title is %q", title)
	}
	if in := b.Text("#input-schema"); !strings.Contains(in, `"prefixItems"`) || !strings.Contains(in, `"title": "b"`) {
		t.Errorf("add's input schema shows %q", in)
	}
	b.Shot("explorer")

	// The event monitor, subscribed before the calls.
	b.Do("subscribe to calculator.* in the event monitor",
		chromedp.Click(css("#tab-events")),
		chromedp.SetValue(css("#event-pattern"), "calculator.*"),
		chromedp.Click(css("#subscribe-button")),
		chromedp.WaitVisible(css(`.chip[data-pattern="calculator.*"][data-state="active"]`)),
		chromedp.Click(css("#tab-services")),
	)

	// The tester: add 2 3 = 5.
	b.Do("call add with 2 and 3",
		chromedp.WaitVisible(arg(0)),
		chromedp.SendKeys(arg(0), "2"),
		chromedp.SendKeys(arg(1), "3"),
		chromedp.Click(css("#call-button")),
		chromedp.WaitVisible(css("#result.ok #result-value")),
	)
	if result := b.Text("#result-value"); strings.TrimSpace(result) != "5" {
		t.Errorf("add 2 3 shows %q, want 5", result)
	}
	tester := b.Shot("tester")

	// div by 0: the error with its code.
	b.Do("call div with 1 and 0",
		chromedp.Click(method("div")),
		chromedp.WaitVisible(arg(1)),
		chromedp.SendKeys(arg(0), "1"),
		chromedp.SendKeys(arg(1), "0"),
		chromedp.Click(css("#call-button")),
		chromedp.WaitVisible(css("#result.error #error-code")),
	)
	if code, msg := b.Text("#error-code"), b.Text("#error-message"); code != "invalid_argument" || !strings.Contains(msg, "division by zero") {
		t.Errorf("div 1 0 shows %q %q, want invalid_argument: division by zero", code, msg)
	}
	b.Shot("error")

	// The event of the add.
	event := `#event-list li.event[data-topic="calculator.computed"] pre`
	b.Do("see calculator.computed in the event monitor",
		chromedp.Click(css("#tab-events")),
		chromedp.WaitVisible(css(event)),
	)
	payload := b.Text(event)
	b.Shot("events")
	var computed struct {
		Op     string  `json:"op"`
		A      float64 `json:"a"`
		B      float64 `json:"b"`
		Result float64 `json:"result"`
	}
	if err := json.Unmarshal([]byte(payload), &computed); err != nil || computed.Op != "add" || computed.A != 2 || computed.B != 3 || computed.Result != 5 {
		t.Errorf("the event shows %q (%v), want the add's: op add, a 2, b 3, result 5", payload, err)
	}

	// A stream, item by item.
	b.Do("open the count stream with 3",
		chromedp.Click(css("#tab-services")),
		chromedp.Click(method("count")),
		chromedp.WaitVisible(arg(0)),
		chromedp.SendKeys(arg(0), "3"),
		chromedp.Click(css("#call-button")),
		chromedp.WaitVisible(css("#stream-items li:nth-child(3)")),
	)
	if items, status := b.Text("#stream-items"), b.Text("#stream-status"); strings.Join(strings.Fields(items), " ") != "0 1 2" || !strings.Contains(status, "ended after 3 items") {
		t.Errorf("count 3 shows items %q, status %q", items, status)
	}

	if *update {
		png, err := os.ReadFile(tester)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "devui.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
