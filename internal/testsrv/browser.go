package testsrv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Browser is a tab of a headless Chromium (Debian's chromium, which
// .ci/run installs) driven by a test. The page's JavaScript errors fail
// the test when it ends: uncaught exceptions, console.error, and the
// errors the browser logs about the page (a refused resource, a
// Content-Security-Policy violation) other than answers with an error
// status, which a page may well show.
type Browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // the folder of the screenshots, under t.TempDir()

	mu       sync.Mutex
	problems []string
}

// chromium is the one Chromium of the test binary, which [NewBrowser]
// starts on first use and [CloseBrowser] stops: starting one per test
// costs seconds of the two cores a run may have, and tests running in
// parallel would start several at once.
var chromium struct {
	mu     sync.Mutex
	ctx    context.Context // the browser's chromedp context; nil until started
	cancel func()          // stops the browser and waits for it to end
}

// NewBrowser opens a tab for the test in the test binary's Chromium,
// starting it on first use, and closes the tab when the test ends. The
// tab has a browser context of its own, so that its storage and cookies
// are the test's alone. Its actions must end within two minutes. Without
// Chromium the test is skipped with a loud message, and fails under
// CI=true. A package whose tests call it stops the browser with
// [CloseBrowser] in its TestMain.
func NewBrowser(t *testing.T) *Browser {
	t.Helper()
	bctx, err := sharedChromium(t)
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	b := &Browser{t: t, shots: t.TempDir()}
	tctx, cancelTab := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(b.note))
	ctx, cancel := context.WithTimeout(tctx, 2*time.Minute)
	b.ctx = ctx
	t.Cleanup(func() {
		b.check()
		cancel()
		cancelTab()
	})
	return b
}

// sharedChromium returns the chromedp context of the test binary's
// Chromium, starting it when it is not running yet.
func sharedChromium(t *testing.T) (context.Context, error) {
	t.Helper()
	chromium.mu.Lock()
	defer chromium.mu.Unlock()
	if chromium.ctx != nil && chromium.ctx.Err() == nil {
		return chromium.ctx, nil
	}
	if chromium.cancel != nil { // it ended early (a crash): the tests after it get a new one
		chromium.cancel()
		chromium.ctx, chromium.cancel = nil, nil
	}
	chrome := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chrome = p
			break
		}
	}
	if chrome == "" {
		unreachable(t, "BROWSER", "Chromium is not installed, and the browser tests need it: apt-get install -y chromium (.ci/run installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.WindowSize(1280, 800), chromedp.Flag("disable-gpu", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	// The first run starts the browser and binds its life to bctx, which
	// only CloseBrowser ends: a test's timeout must not stop the browser
	// of the tests after it. The allocator gives up on a browser that
	// does not start within 20 s.
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		return nil, err
	}
	chromium.ctx = bctx
	chromium.cancel = func() {
		cancelBrowser()
		cancelAlloc()
	}
	return bctx, nil
}

// CloseBrowser stops the Chromium that [NewBrowser] started, if it did,
// and waits for it to end. A package whose tests use NewBrowser calls it
// in its TestMain after the tests have run (before a check for
// goroutines left running):
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		testsrv.CloseBrowser()
//		os.Exit(code)
//	}
func CloseBrowser() {
	chromium.mu.Lock()
	defer chromium.mu.Unlock()
	if chromium.cancel != nil {
		chromium.cancel()
	}
	chromium.ctx, chromium.cancel = nil, nil
}

// ClosingBrowser returns m with a Run that calls [CloseBrowser] after the
// tests, for a TestMain that hands m to a check for goroutines left
// running, which must not see the browser's:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(testsrv.ClosingBrowser(m)) }
func ClosingBrowser(m *testing.M) interface{ Run() int } { return closingBrowser{m} }

type closingBrowser struct{ m *testing.M }

func (c closingBrowser) Run() int {
	defer CloseBrowser()
	return c.m.Run()
}

// note records the page's errors. It is a chromedp listener: it runs on
// the loop that reads the browser's messages, so it only records.
func (b *Browser) note(ev any) {
	var p string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		p = fmt.Sprintf("exception: %s (%s:%d)", d.Text, d.URL, d.LineNumber+1)
		if d.Exception != nil && d.Exception.Description != "" {
			p += ": " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var args []string
		for _, a := range e.Args {
			if a.Description != "" {
				args = append(args, a.Description)
			} else {
				args = append(args, string(a.Value))
			}
		}
		p = "console.error: " + strings.Join(args, " ")
	case *cdplog.EventEntryAdded:
		if e.Entry.Level != cdplog.EntryLevelError || e.Entry.Source == cdplog.EntrySourceNetwork {
			return
		}
		p = fmt.Sprintf("%s error: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL)
	default:
		return
	}
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// check fails the test with each error of the page.
func (b *Browser) check() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("the page: %s", p)
	}
	b.problems = nil
}

// Do runs the actions of one step, failing the test with the step's name
// when one fails.
func (b *Browser) Do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
}

// Text returns the text of the element that the CSS selector sel finds.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("the text of %s: %v", sel, err)
	}
	return s
}

// Shot saves a screenshot of the whole page as name.png in the test's
// temporary folder, and returns the file's path.
func (b *Browser) Shot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", file)
	return file
}
